"""The IVIG / Long COVID assistant, in rooms by role (docs/architecture.md): core, nlp, triage, rasa_ext, launcher,
tools, widget; curated content in content/."""
