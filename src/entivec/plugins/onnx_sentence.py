"""A sentence encoder that runs an ONNX graph returning pooled, normalised vectors.

Shared by every sentence-vector plugin: tokenise with a ``tokenizers`` tokenizer, sort
the texts by length so each batch pads little, run onnxruntime, restore the order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from entivec.errors import ModelNotPreparedError, UnknownPluginError
from entivec.models import artefact_dir, artefact_version, verified_manifest
from entivec.onnx_sessions import inference_session
from entivec.registry import EncoderSpec

TOKENIZER = "tokenizer.json"

log = logging.getLogger(__name__)


class OnnxSentenceEncoder:
    """An ONNX sentence encoder with fixed query and passage prefixes.

    Args:
        model: The ``.onnx`` file; inputs ``input_ids``, ``attention_mask`` (and
            optionally ``token_type_ids``), one output of shape ``(batch, size)``.
        tokenizer: The ``tokenizer.json`` file.
        query_prefix: Prepended to queries.
        passage_prefix: Prepended to passages.
        batch_size: Texts per onnxruntime run.
        max_length: Tokens kept per text (longer texts are truncated).
        threads: onnxruntime intra-op threads; see
            :func:`entivec.onnx_sessions.default_threads`.
        build_command: The command that builds the files, named when they are missing.
    """

    def __init__(
        self,
        model: Path,
        tokenizer: Path,
        *,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        max_length: int = 512,
        threads: int | None = None,
        build_command: str = "entivec models prepare",
    ) -> None:
        from tokenizers import Tokenizer

        for path in (model, tokenizer):
            if not path.is_file():
                raise ModelNotPreparedError(f"{path} is missing; run `{build_command}` to build it")
        self.session = inference_session(model, threads=threads)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.size = int(self.session.get_outputs()[0].shape[1])
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        self.pad_id = self.tokenizer.token_to_id("<pad>") or 0
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        # what ingestion records per vector; set from the manifest by from_artefact
        self.version = model.name

    @classmethod
    def from_artefact(
        cls, folder: Path, model_file: str, *, build_command: str, **options: Any
    ) -> OnnxSentenceEncoder:
        """The encoder of an artefact folder, after checking the files it loads against
        the folder's manifest (:func:`entivec.models.verified_manifest`).

        Args:
            folder: The artefact folder.
            model_file: The graph to run (a variant's file).
            build_command: The command that builds the folder, named when it is missing.
            options: Passed to the constructor (prefixes, ``batch_size``, ``threads``).
        """
        if not (folder / model_file).is_file():
            raise ModelNotPreparedError(
                f"{folder / model_file} is missing; run `{build_command}` to build it"
            )
        manifest = verified_manifest(folder, [model_file, TOKENIZER], build_command=build_command)
        encoder = cls(
            folder / model_file, folder / TOKENIZER, build_command=build_command, **options
        )
        encoder.version = artefact_version(manifest, model_file)
        return encoder

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors of ``texts`` as given (no prefix), one L2-normalised row per text."""
        out = np.empty((len(texts), self.size), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            out[rows] = self.session.run(None, feeds)[0]
        return out

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for search queries (query prefix applied)."""
        return self.embed([self.query_prefix + t for t in texts])

    def embed_passages(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for texts to store (passage prefix applied)."""
        return self.embed([self.passage_prefix + t for t in texts])


def sentence_plugin(
    name: str,
    *,
    files: Mapping[str, str],
    size: int,
    description: str,
    build_command: str,
    missing_hint: str | None = None,
    query_prefix: str = "",
    passage_prefix: str = "",
) -> tuple[EncoderSpec, Callable[..., OnnxSentenceEncoder]]:
    """The spec and the ``load`` of a sentence plugin whose artefact folder holds one ONNX
    graph per variant beside its tokenizer (the named vector is called ``name``).

    Args:
        files: Variant -> graph file in the artefact folder; the first is the default.
        build_command: The command ``entivec plugins`` names to build the artefact.
        missing_hint: The command a missing file's error names (default ``build_command``).
    """

    def load(
        variant: str = next(iter(files)), *, batch_size: int = 32, threads: int | None = None
    ) -> OnnxSentenceEncoder:
        if variant not in files:
            raise UnknownPluginError(
                f"{name} has no variant {variant!r}; expected one of: {', '.join(files)}"
            )
        return OnnxSentenceEncoder.from_artefact(
            artefact_dir(name),
            files[variant],
            build_command=missing_hint or build_command,
            query_prefix=query_prefix,
            passage_prefix=passage_prefix,
            batch_size=batch_size,
            threads=threads,
        )

    load.__doc__ = (
        f"The {name} encoder from its prepared artefact.\n\n"
        f"    Args:\n        variant: One of {', '.join(files)}.\n"
        "        batch_size: Texts per onnxruntime run.\n"
        "        threads: onnxruntime intra-op threads.\n"
    )
    default = next(iter(files))
    spec = EncoderSpec(
        name=name,
        vector=name,
        size=size,
        distance="cosine",
        embeds="sentence",
        artefact=lambda: artefact_dir(name) / files[default],
        load=load,
        variants=tuple(files),
        description=description,
        build_command=build_command,
    )
    return spec, load
