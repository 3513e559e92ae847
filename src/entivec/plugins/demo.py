"""The ``demo`` plugin: the distilled demonstration retriever (RUIE), named vector ``demo``.

One point per entity mention, like ``entity`` (the two vectors share the mention points).
A demonstration is embedded as its mention, then its type
(:func:`entivec.query.prompts.demonstration_text`). A query is an input sentence with the mention
to type in brackets (``Blair led [Labour] to victory.``), embedded as its mention. The
artefact's manifest records the text form its student was trained with, and the encoder
reads texts that way (students trained before the choice read whole sentences).
The encoder is a bi-encoder distilled from the LM's preferences by ``entivec train demo``,
exported to ONNX with pooling and normalisation in the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from entivec.errors import InvalidArgumentError, UnknownPluginError
from entivec.models import artefact_dir, read_manifest
from entivec.plugins.onnx_sentence import OnnxSentenceEncoder
from entivec.query.prompts import demonstration_text, retriever_query
from entivec.registry import EncoderSpec, registers

if TYPE_CHECKING:
    from pathlib import Path

    from entivec.mentions import SpanInput

NAME = "demo"
MODEL = "model.onnx"
BUILD_COMMAND = (
    "entivec train demo conll ../shared/data/crossner/*/train.txt "
    "--dev ../shared/data/crossner/politics/dev.txt ... --language en"
)


class DemoEncoder:
    """The ``demo`` ONNX bi-encoder: demonstrations as passages, marked inputs as queries.

    Args:
        folder: The artefact folder; the plugin's place in entivec's cache by default.
        batch_size: Texts per onnxruntime run.
        threads: onnxruntime intra-op threads.
    """

    def __init__(
        self, folder: Path | None = None, *, batch_size: int = 32, threads: int | None = None
    ) -> None:
        folder = folder or artefact_dir(NAME)
        self.sentences = OnnxSentenceEncoder.from_artefact(
            folder, MODEL, build_command=BUILD_COMMAND, batch_size=batch_size, threads=threads
        )
        self.version = self.sentences.version
        self.text_form = _text_form(folder)

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors of inputs, each with the mention to type in brackets.

        Raises:
            InvalidArgumentError: A text lacks exactly one bracketed mention.
        """
        return self.sentences.embed([retriever_query(t, form=self.text_form) for t in texts])

    def embed_passages(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors of texts already written out in this encoder's form: demonstrations
        (:func:`demonstration_text` with ``form=self.text_form``) or inputs
        (:func:`entivec.query.prompts.retriever_text` without a label); the encoder is symmetric."""
        return self.sentences.embed(texts)

    def embed_mentions(self, items: Sequence[SpanInput]) -> npt.NDArray[np.float32]:
        """Vectors of annotated mentions as demonstrations (their type included)."""
        texts = []
        for item in items:
            if item.start is None or item.label is None:
                raise InvalidArgumentError(
                    "the demo encoder embeds annotated mentions (start offset and type); "
                    "embed a query with embed_queries"
                )
            texts.append(
                demonstration_text(item.text, item.start, item.end, item.label, form=self.text_form)
            )
        return self.sentences.embed(texts)


def _text_form(folder: Path) -> str:
    """The text form the artefact's student was trained with (its manifest's recipe)."""
    budget = read_manifest(folder, build_command=BUILD_COMMAND).get("recipe", {}).get("budget", {})
    return str(budget.get("text_form", "sentence"))


def load(variant: str = "fp32", *, batch_size: int = 32, threads: int | None = None) -> DemoEncoder:
    """The distilled demonstration retriever from its artefact (``fp32`` only)."""
    if variant != "fp32":
        raise UnknownPluginError(f"demo has no variant {variant!r}; expected one of: fp32")
    return DemoEncoder(batch_size=batch_size, threads=threads)


SPEC = EncoderSpec(
    name=NAME,
    vector="demo",
    size=384,
    distance="cosine",
    embeds="mention",
    artefact=lambda: artefact_dir(NAME) / MODEL,
    load=load,
    description="demonstrations for in-context typing, distilled from SmolLM2's preferences (RUIE)",
    build_command=BUILD_COMMAND,
)

register = registers(SPEC)
