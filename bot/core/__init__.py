"""The core: content, settings, the reply builder and routing; what the action server loads.

No Rasa, spaCy, TensorFlow or NumPy here (tests/unit/test_import_direction.py), so the action server stays
small and the Rasa server, the tools and the NLU build on it, never the reverse.
"""
