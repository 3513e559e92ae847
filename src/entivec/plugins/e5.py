"""The ``e5`` plugin: multilingual-e5-small in onnxruntime, named vector ``e5``.

e5 was trained with a ``query: `` prefix on queries and ``passage: `` on stored texts;
the plugin applies them, so callers pass plain text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from entivec.errors import UnknownPluginError
from entivec.models import artefact_dir
from entivec.plugins.onnx_sentence import OnnxSentenceEncoder
from entivec.registry import EncoderSpec

if TYPE_CHECKING:
    from entivec.registry import Registry

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
NAME = "e5"
VARIANTS = {"fp32": "model.onnx", "int8": "model_int8.onnx"}


def load(
    variant: str = "fp32", *, batch_size: int = 32, threads: int | None = None
) -> OnnxSentenceEncoder:
    """The e5 encoder from the prepared artefact.

    Args:
        variant: ``fp32`` (default) or ``int8`` (8-bit ``MatMulNBits``, see docs/models.md).
        batch_size: Texts per onnxruntime run.
        threads: onnxruntime intra-op threads.
    """
    if variant not in VARIANTS:
        raise UnknownPluginError(
            f"e5 has no variant {variant!r}; expected one of: {', '.join(VARIANTS)}"
        )
    return OnnxSentenceEncoder.from_artefact(
        artefact_dir(NAME),
        VARIANTS[variant],
        build_command="entivec models prepare",
        query_prefix=QUERY_PREFIX,
        passage_prefix=PASSAGE_PREFIX,
        batch_size=batch_size,
        threads=threads,
    )


SPEC = EncoderSpec(
    name=NAME,
    vector="e5",
    size=384,
    distance="cosine",
    embeds="sentence",
    artefact=lambda: artefact_dir(NAME) / VARIANTS["fp32"],
    load=load,
    variants=tuple(VARIANTS),
    description="multilingual-e5-small (ONNX), cross-lingual sentence search",
)


def register(registry: Registry) -> None:
    """Entry point: the built-in e5 plugin."""
    registry.add_encoder(SPEC)
