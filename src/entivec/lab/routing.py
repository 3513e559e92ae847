"""``entivec eval routing``: routing accuracy against language-ID libraries, same sentences.

The store holds the indexed sentences (for WikiANN: the six ``train`` splits, ingested
with the ``lang`` vector); the evaluation files hold labelled sentences to route (the
``val`` splits). Every method sees the same sentences; accuracy is reported overall,
per language and per length bucket (short inputs are where routing fails). An unrouted
sentence counts as wrong unless a fallback answered it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from entivec.annotation.langid import IDENTIFIERS, identifier
from entivec.annotation.routing import DEFAULT_K, DEFAULT_MIN_VOTES, Route
from entivec.errors import CorpusNotFoundError, StoreError
from entivec.loaders import load

if TYPE_CHECKING:
    from entivec.api import Entivec

LENGTH_BUCKETS = (("1-3", 1, 3), ("4-8", 4, 8), ("9+", 9, 10**9))
ROUTE_BATCH = 256


def length_bucket(tokens: int) -> str:
    """The name of the length bucket of a sentence of ``tokens`` tokens."""
    return next(name for name, low, high in LENGTH_BUCKETS if low <= tokens <= high)


def _score(
    name: str,
    predicted: Sequence[str | None],
    gold: np.ndarray,
    buckets: np.ndarray,
    seconds: float,
    **extra: Any,
) -> dict[str, Any]:
    right = np.array([p == g for p, g in zip(predicted, gold, strict=True)])
    return {
        "method": name,
        "accuracy": round(float(right.mean()), 4),
        "no_answer": round(float(np.mean([p is None for p in predicted])), 4),
        "by_length": {
            b: round(float(right[buckets == b].mean()), 4)
            for b, *_ in LENGTH_BUCKETS
            if (buckets == b).any()
        },
        "by_language": {
            lang: round(float(right[gold == lang].mean()), 4) for lang in sorted(set(gold))
        },
        "ms_per_text": round(1000 * seconds / max(1, len(gold)), 3),
        **extra,
    }


def evaluate_routing(
    ev: Entivec,
    format: str,
    paths: Sequence[Path],
    *,
    vectors: Sequence[str] = ("lang",),
    k: int = DEFAULT_K,
    min_votes: int = DEFAULT_MIN_VOTES,
    limit: int | None = None,
    baselines: Sequence[str] = tuple(IDENTIFIERS),
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Route every sentence of ``paths`` through ``ev``'s store and score the routes.

    Args:
        ev: The store, holding the indexed (labelled) sentences.
        format: Corpus format of ``paths``.
        paths: Sentences to route; their language (from the path) is the gold label.
        vectors: Named vectors to route by, each a method of its own.
        k: Neighbours per sentence.
        min_votes: Agreeing neighbours a route needs.
        limit: Sentences read per file.
        baselines: Language-ID libraries run on the same sentences, and each as the
            fallback of the unrouted ones.

    Returns:
        JSON-ready results; ``overall.accuracy`` is the first vector's, no fallback.
    """
    if not vectors:
        raise ValueError("name at least one vector to route by")
    for path in paths:
        if not Path(path).is_file():
            raise CorpusNotFoundError(f"{path} does not exist or is not a file")
    if ev.store.count() == 0:
        raise StoreError(
            "the store is empty: ingest the labelled sentences to route against first, e.g. "
            "`entivec ingest wikiann .../*/train.conllu --store STORE --plugin lang`"
        )
    sentences = [s for path in paths for s in load(format, [Path(path)], limit=limit)]
    texts = [s.text for s in sentences]
    gold = np.array([s.language for s in sentences])
    buckets = np.array([length_bucket(len(s.tokens)) for s in sentences])
    languages = sorted(set(gold.tolist()))

    library_answers: dict[str, list[str | None]] = {}
    results = []
    for name in baselines:
        detector = identifier(name, languages)
        start = time.perf_counter()
        answers = [
            detector.identify(t) for t in tqdm(texts, desc=name, disable=show_progress is False)
        ]
        library_answers[name] = answers
        results.append(_score(name, answers, gold, buckets, time.perf_counter() - start))

    for vector in vectors:
        router = ev.router(vector=vector, k=k, min_votes=min_votes, wide=False)
        start = time.perf_counter()
        routes: list[Route] = []
        with tqdm(
            total=len(texts), desc=f"route by {vector}", disable=show_progress is False
        ) as bar:
            for i in range(0, len(texts), ROUTE_BATCH):
                routes += router.route(texts[i : i + ROUTE_BATCH])
                bar.update(min(ROUTE_BATCH, len(texts) - i))
        seconds = time.perf_counter() - start
        outcomes = {
            o: sum(r.outcome == o for r in routes) / len(routes)
            for o in {r.outcome for r in routes}
        }
        name = f"{vector} top-{k}"
        results.append(
            _score(
                name,
                [r.language for r in routes],
                gold,
                buckets,
                seconds,
                vector=vector,
                threshold=router.threshold,
                outcomes={o: round(v, 4) for o, v in sorted(outcomes.items())},
            )
        )
        # the same route with fastText's wide identifier beside the vote (the default of
        # `route` and ingestion), which may name languages the index does not hold
        wide = ev.router(vector=vector, k=k, min_votes=min_votes, wide=True)
        start = time.perf_counter()
        named = [
            r.language
            for i in range(0, len(texts), ROUTE_BATCH)
            for r in wide.route(texts[i : i + ROUTE_BATCH])
        ]
        results.append(
            _score(
                f"{name} + wide fastText",
                named,
                gold,
                buckets,
                time.perf_counter() - start,
                vector=vector,
            )
        )
        for fallback in baselines:  # each library as the fallback of unrouted texts
            combined = [
                r.language if r.routed else library_answers[fallback][i]
                for i, r in enumerate(routes)
            ]
            results.append(
                _score(
                    f"{name} + {fallback} fallback", combined, gold, buckets, seconds, vector=vector
                )
            )
    primary = next(r for r in results if r.get("vector") == vectors[0])
    return {
        "sentences": len(texts),
        "languages": languages,
        "k": k,
        "length_buckets": {b: int((buckets == b).sum()) for b, *_ in LENGTH_BUCKETS},
        "overall": {"method": primary["method"], "accuracy": primary["accuracy"]},
        "methods": results,
    }
