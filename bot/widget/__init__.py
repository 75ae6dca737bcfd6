"""The embeddable patient chat widget (plain JS, no build step), its demo portal page and a small server."""
