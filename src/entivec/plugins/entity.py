"""The ``entity`` plugin: type-aware mention vectors (NER Retriever), named vector ``entity``.

One point per entity mention: SmolLM2's value vectors of two blocks at the mention's last
token, projected by the MLP of ``entivec train entity``, all in one ONNX graph. A query (a
type's name or description, ``"a political party"``) is embedded as if the whole query
were one span. Spans come from the corpus annotations: entivec has no span detector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from entivec.errors import ModelNotPreparedError, UnknownPluginError
from entivec.loaders.crossner import type_name
from entivec.mentions import SpanInput, last_token_index, query_input
from entivec.models import MANIFEST, artefact_dir, artefact_version, verified_manifest
from entivec.onnx_sessions import inference_session
from entivec.registry import EncoderSpec, registers

if TYPE_CHECKING:
    from pathlib import Path


NAME = "entity"
MODEL = "model.onnx"
TOKENIZER = "tokenizer.json"
SIZE = 500
BUILD_COMMAND = (
    "entivec train entity conll ../shared/data/crossner/*/train.txt "
    "--dev ../shared/data/crossner/politics/dev.txt ... --language en"
)


class OnnxEntityEncoder:
    """Mention vectors from the ``entity`` ONNX graph.

    Args:
        folder: The artefact folder (``model.onnx``, ``tokenizer.json``, manifest).
        batch_size: Texts per onnxruntime run; the mentions of one text share a run.
        threads: onnxruntime intra-op threads.
    """

    def __init__(self, folder: Path, *, batch_size: int = 32, threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        for path in (folder / MODEL, folder / TOKENIZER, folder / MANIFEST):
            if not path.is_file():
                raise ModelNotPreparedError(f"{path} is missing; run `{BUILD_COMMAND}`")
        manifest = verified_manifest(folder, [MODEL, TOKENIZER], build_command=BUILD_COMMAND)
        self.version = artefact_version(manifest, MODEL)
        self.session = inference_session(folder / MODEL, threads=threads)
        if "is_query" not in {graph_input.name for graph_input in self.session.get_inputs()}:
            raise ModelNotPreparedError(
                f"{folder / MODEL} was exported by an older entivec (no query input); "
                f"rebuild it with `{BUILD_COMMAND}`"
            )
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
        self.tokenizer.no_padding()
        prefix = self.tokenizer.token_to_id(manifest["prefix_token"])
        if prefix is None:
            raise ModelNotPreparedError(
                f"{folder}: the tokenizer lacks {manifest['prefix_token']!r}; rebuild it with "
                f"`{BUILD_COMMAND}`"
            )
        self.prefix_id = prefix
        self.size = int(manifest["size"])
        self.batch_size = batch_size
        # the type names the projection was trained on, as queries write them
        self.trained_descriptions = frozenset(
            type_name(label) for label in manifest.get("training", {}).get("training_types", [])
        )

    def embed_mentions(
        self, items: Sequence[SpanInput], *, queries: bool = False
    ) -> npt.NDArray[np.float32]:
        """One unit vector per mention, read at its last token; ``queries`` marks the items
        as queries (type names read alone), which the graph shifts towards the mentions."""
        out = np.empty((len(items), self.size), dtype=np.float32)
        if not items:
            return out
        texts = sorted({item.text for item in items}, key=len)
        encoded = {
            text: encoding
            for text, encoding in zip(
                texts, self.tokenizer.encode_batch(texts, add_special_tokens=False), strict=True
            )
        }
        readers: dict[str, list[tuple[int, int]]] = {text: [] for text in texts}
        for position, item in enumerate(items):
            offsets = [(0, 0), *encoded[item.text].offsets]
            readers[item.text].append((position, last_token_index(item, offsets)))
        # a decoder's tokens never see later ones: stop each text at its last span's end
        kept = {
            text: [self.prefix_id, *encoded[text].ids][: 1 + max(t for _, t in reads)]
            for text, reads in readers.items()
        }
        texts.sort(key=lambda text: len(kept[text]))
        for start in range(0, len(texts), self.batch_size):
            chosen = texts[start : start + self.batch_size]
            width = max(len(kept[text]) for text in chosen)
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, text in enumerate(chosen):
                tokens = kept[text]
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            reads = [(row, *read) for row, text in enumerate(chosen) for read in readers[text]]
            feeds = {
                "input_ids": ids,
                "attention_mask": mask,
                "mention_row": np.array([row for row, _, _ in reads], dtype=np.int64),
                "last_token": np.array([token for _, _, token in reads], dtype=np.int64),
                "is_query": np.full(len(reads), float(queries), dtype=np.float32),
            }
            out[[position for _, position, _ in reads]] = self.session.run(None, feeds)[0]
        return out

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """A type name or description, embedded as one span."""
        return self.embed_mentions([query_input(text) for text in texts], queries=True)

    def embed_passages(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """A whole text as one span (what a query is)."""
        return self.embed_queries(texts)


def load(
    variant: str = "fp32", *, batch_size: int = 32, threads: int | None = None
) -> OnnxEntityEncoder:
    """The entity encoder from its artefact (``fp32`` only)."""
    if variant != "fp32":
        raise UnknownPluginError(f"entity has no variant {variant!r}; expected one of: fp32")
    return OnnxEntityEncoder(artefact_dir(NAME), batch_size=batch_size, threads=threads)


SPEC = EncoderSpec(
    name=NAME,
    vector="entity",
    size=SIZE,
    distance="cosine",
    embeds="mention",
    artefact=lambda: artefact_dir(NAME) / MODEL,
    load=load,
    description="SmolLM2 value vectors at a mention's last token, projected for type search",
    build_command=BUILD_COMMAND,
)

register = registers(SPEC)
