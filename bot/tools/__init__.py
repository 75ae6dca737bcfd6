"""Commands for people and CI, never imported by the assistant itself: evaluation, the story runner, the clinic
report, the content status, the REST client and the performance tools (perf/)."""
