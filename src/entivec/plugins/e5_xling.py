"""The ``e5_xling`` plugin: multilingual-e5-small fine-tuned for queries in any language
against English passages (``entivec train e5``), named vector ``e5_xling``.

It sits beside the base ``e5`` vector: cross-lingual search uses this one, routing
keeps the ``lang`` vector. Add it to a collection that already holds the others with
``entivec ingest ... --plugin e5_xling``: only the new vector is computed and written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from entivec.errors import UnknownPluginError
from entivec.models import artefact_dir
from entivec.plugins.e5 import PASSAGE_PREFIX, QUERY_PREFIX
from entivec.plugins.onnx_sentence import OnnxSentenceEncoder
from entivec.registry import EncoderSpec

if TYPE_CHECKING:
    from entivec.registry import Registry

NAME = "e5_xling"
MODEL = "model.onnx"


def load(
    variant: str = "fp32", *, batch_size: int = 32, threads: int | None = None
) -> OnnxSentenceEncoder:
    """The fine-tuned e5 from its artefact (``fp32`` only)."""
    if variant != "fp32":
        raise UnknownPluginError(f"e5_xling has no variant {variant!r}; expected one of: fp32")
    return OnnxSentenceEncoder.from_artefact(
        artefact_dir(NAME),
        MODEL,
        build_command="entivec train e5 ../shared/data/tatoeba",
        query_prefix=QUERY_PREFIX,
        passage_prefix=PASSAGE_PREFIX,
        batch_size=batch_size,
        threads=threads,
    )


SPEC = EncoderSpec(
    name=NAME,
    vector="e5_xling",
    size=384,
    distance="cosine",
    embeds="sentence",
    artefact=lambda: artefact_dir(NAME) / MODEL,
    load=load,
    description="multilingual-e5-small fine-tuned on Tatoeba pairs (queries in any language "
    "against English passages)",
    build_command="entivec train e5 TATOEBA_DIR",
)


def register(registry: Registry) -> None:
    """Entry point: the fine-tuned cross-lingual e5."""
    registry.add_encoder(SPEC)
