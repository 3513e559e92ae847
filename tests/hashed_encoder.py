"""A test encoder registered like any plugin: hashed character n-grams, no trained artefact.

It plays the part llm's ``EmbedDemo`` plays in llm's tests: the store, ingestion, search,
routing mechanics, fusion, the errors and the CLI are tested with it in seconds, on the
real Qdrant engines and the real loaders, before any model is prepared. It makes no
quality claim; the real plugins' tests do (the ``models`` marker).

Two plugins: ``hashed`` (one vector per sentence) and ``hashed_mention`` (one per span,
the span's own characters; a query is read as a whole).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import HashingVectorizer

from entivec.mentions import SpanInput
from entivec.registry import EncoderSpec, Registry

SIZE = 256
# neighbours sharing this share of n-gram mass vote; enough to refuse unrelated text
THRESHOLD = 0.2
# seconds each call sleeps, so a subprocess test can interrupt a run mid-way
DELAY_VARIABLE = "ENTIVEC_TEST_ENCODER_DELAY"


class HashedEncoder:
    """L2-normalised counts of hashed character 1-3-grams within word boundaries."""

    threshold = THRESHOLD

    def __init__(self) -> None:
        self._vectorizer = HashingVectorizer(
            analyzer="char_wb", ngram_range=(1, 3), n_features=SIZE, alternate_sign=False
        )

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        delay = float(os.environ.get(DELAY_VARIABLE) or 0)
        if delay:
            time.sleep(delay)
        return np.asarray(self._vectorizer.transform(texts).toarray(), dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return self.embed(texts)

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return self.embed(texts)

    def embed_mentions(self, items: Sequence[SpanInput]) -> npt.NDArray[np.float32]:
        return self.embed([item.text[item.start or 0 : item.end] for item in items])


def _spec(name: str, embeds: str) -> EncoderSpec:
    return EncoderSpec(
        name=name,
        vector=name,
        size=SIZE,
        distance="cosine",
        embeds=embeds,  # type: ignore[arg-type]
        artefact=lambda: Path(__file__),
        load=lambda **_options: HashedEncoder(),
        description="hashed character n-grams (tests only)",
        build_command="nothing to build",
    )


SPECS = (_spec("hashed", "sentence"), _spec("hashed_mention", "mention"))


def register(registry: Registry) -> None:
    """Add both plugins to ``registry``, as an ``entivec.plugins`` entry point would."""
    for spec in SPECS:
        registry.add_encoder(spec)


def unregister(registry: Registry) -> None:
    """Take both plugins out again."""
    for spec in SPECS:
        registry.remove_encoder(spec.name)


if __name__ == "__main__":
    # `python -m tests.hashed_encoder ARGS...` is `entivec ARGS...` with the plugins
    # registered: what a subprocess test runs (the kill -9 resume)
    from entivec.cli import main
    from entivec.registry import get_registry

    register(get_registry())
    main()
