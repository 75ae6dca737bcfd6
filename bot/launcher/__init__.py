"""The launcher: `python -m bot run | serve | health` and the process management that tests and tools share."""
