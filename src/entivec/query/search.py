"""How mention hits become a ranking of sentences: grouping, fetching deeper, fusion.

Mention points are searched and grouped by sentence (R-Precision counts sentences, not
mentions), and a sentence's best mention stands for it. When grouping or filtering leaves
fewer than ``k``, the store is asked again, deeper.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from entivec.errors import InvalidArgumentError
from entivec.store import Hit, Store, sentence_point_id

ENTITY_OVERFETCH = 4
# Fusing mention search with a sentence vector: each ranking is read FUSION_DEPTH × k
# deep, since a sentence just outside one list's top k can still win on the sum; the
# rank constant is Cormack et al.'s 60 rather than Qdrant's default 2, which lets one
# list's first hits outweigh agreement between the two (docs/ner-retriever.md).
FUSION_DEPTH = 3
FUSION_RANK_CONSTANT = 60


def check_query(text: object, what: str = "the query") -> str:
    """``text`` when it has something to search for.

    An empty query still has a vector (an empty passage's), whose neighbours come back
    scored .8 as if they matched; it is refused instead.

    Raises:
        InvalidArgumentError: ``text`` is not a string, is blank, or holds a NUL.
    """
    if not isinstance(text, str):
        raise InvalidArgumentError(f"{what} must be text, got {type(text).__name__}")
    if not text.strip():
        raise InvalidArgumentError(f"{what} is empty; give words to search for")
    if "\x00" in text:
        raise InvalidArgumentError(f"{what} holds a NUL character")
    return text


def sentence_of(hit: Hit) -> str:
    """The id of the sentence point a hit belongs to (itself, or its mention's sentence)."""
    payload = hit.payload
    return sentence_point_id(
        str(payload.get("corpus")), str(payload.get("source", "")), str(payload.get("sentence_id"))
    )


def one_per_sentence(hits: list[Hit]) -> list[Hit]:
    """Each sentence once, as its first (best-scoring) hit."""
    best: dict[str, Hit] = {}
    for hit in hits:
        best.setdefault(sentence_of(hit), hit)
    return list(best.values())


def one_per_text(hits: list[Hit]) -> list[Hit]:
    """Each distinct ``text`` payload once, as its first (best-scoring) hit."""
    best: dict[str, Hit] = {}
    for hit in hits:
        best.setdefault(str(hit.payload.get("text", "")), hit)
    return list(best.values())


def search_until(
    store: Store,
    vector: str,
    query: list[float],
    k: int,
    where: dict[str, str] | None,
    keep: Callable[[list[Hit]], list[Hit]],
) -> list[Hit]:
    """The first ``k`` of ``keep(hits)``, fetching more hits until ``keep`` leaves
    ``k`` (it drops or merges mention points) or the store has no more."""
    return fetch_until(lambda n: store.search(vector, query, n, where), k, keep)


def fetch_until(
    search: Callable[[int], list[Hit]], k: int, keep: Callable[[list[Hit]], list[Hit]]
) -> list[Hit]:
    """:func:`search_until` for any ``search(n)`` that returns its ``n`` best hits."""
    fetch = k * ENTITY_OVERFETCH
    while True:
        hits = search(fetch)
        kept = keep(hits)
        if len(kept) >= k or len(hits) < fetch:
            return kept[:k]
        fetch *= 2


def fuse_by_sentence(rankings: Sequence[Sequence[Hit]], k: int) -> list[Hit]:
    """Reciprocal rank fusion of rankings of sentences, whether they hold sentence or
    mention points: each sentence once, as the first ranking's point for it (a mention
    hit says which mention), scored by the fusion."""
    from qdrant_client.http import models
    from qdrant_client.hybrid.fusion import reciprocal_rank_fusion

    first: dict[str, Hit] = {}
    responses = []
    for ranking in rankings:
        response = []
        for hit in ranking:
            key = sentence_of(hit)
            first.setdefault(key, hit)
            response.append(models.ScoredPoint(id=key, version=0, score=hit.score))
        responses.append(response)
    fused = reciprocal_rank_fusion(responses, limit=k, ranking_constant_k=FUSION_RANK_CONSTANT)
    return [
        dataclasses.replace(first[str(p.id)], score=p.score, score_kind="rank_fusion")
        for p in fused
    ]
