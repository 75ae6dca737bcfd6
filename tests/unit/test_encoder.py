"""The sentence encoder alone: pinned files, offline load, dimensions, stable vectors, meaning."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from bot.nlp.encoder import DEFAULT_MODEL_DIR, DIMENSIONS, MODEL_FILES, ModelFileError, SentenceEncoder, get_encoder


@pytest.fixture(scope="module")
def encoder():
    return get_encoder()


def test_vectors_have_the_model_dimension_and_unit_length(encoder):
    vectors = encoder.encode(["what is ivig", "is it safe?", ""])
    assert vectors.shape == (3, DIMENSIONS) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_same_text_same_vector_and_a_cache_hit(encoder):
    first = encoder.encode(["how many people were in the blood vessel study"])[0]
    hits = encoder._cached.cache_info().hits
    second = encoder.encode(["how many people were in the blood vessel study"])[0]
    assert np.array_equal(first, second) and encoder._cached.cache_info().hits == hits + 1


def test_meaning_not_words(encoder):
    """Figures of the design notes, measured with the reference implementation."""
    tired, exhausted, weather = encoder.encode(["I'm so tired all the time", "I feel exhausted every day", "what is the weather today"])
    assert float(tired @ exhausted) == pytest.approx(0.72, abs=0.01)
    assert float(tired @ weather) < 0.3


def test_a_changed_file_is_refused(tmp_path):
    for name in MODEL_FILES:
        shutil.copy(DEFAULT_MODEL_DIR / name, tmp_path / name)
    with open(tmp_path / "vocab.txt", "a") as handle:
        handle.write("extra\n")
    with pytest.raises(ModelFileError, match="vocab.txt: sha256"):
        SentenceEncoder(tmp_path)
    shutil.copy(DEFAULT_MODEL_DIR / "vocab.txt", tmp_path / "vocab.txt")
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(ModelFileError, match="tokenizer.json is missing"):
        SentenceEncoder(tmp_path)


def test_loads_offline_without_pytorch_or_tensorflow():
    code = (
        "import os, socket, sys\n"
        "socket.socket.connect = lambda *a, **k: (_ for _ in ()).throw(OSError('network used'))\n"
        "from bot.nlp.encoder import get_encoder\n"
        "assert get_encoder().encode(['hello']).shape == (1, 384)\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_action_server_loads_no_nlp_stack():
    """Actions need content and routing only: no spaCy, TensorFlow, Rasa server or encoder in that process."""
    code = (
        "import sys\nimport actions.actions\n"
        "print(sorted(m for m in ('spacy', 'tensorflow', 'rasa', 'numpy', 'sklearn', 'tokenizers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
