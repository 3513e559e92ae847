"""``entivec eval entity-sets``: entity search across several sets of held-out types.

One held-out set is one draw of luck: a margin chosen on it can vanish on another. So
the entity projection is trained again for each set (the shipped ten, then ``sets``
draws of ten from the types with at least ``MIN_DEV_MENTIONS`` dev mentions, draw ``i``
seeded by ``i``) and each training seed, with the shipped recipe otherwise. On the dev
sentences, by exact search:

- ``entity``: the type name against the mentions, each sentence by its best mention;
- ``e5 sentences``: the type name as an e5 query against the sentences;
- ``entity + e5, fused``: the two rankings, each ``FUSION_DEPTH`` × R deep, fused by
  reciprocal rank fusion by the same function ``search_entities(..., fuse_with="e5")``
  uses in the store.

R-Precision per type (R: the sentences with a mention of it), averaged over held-out
and over trained types, per set (mean over seeds), with the spread over sets.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from entivec.build.entity.train import (
    HELD_OUT_TYPES,
    EntityRecipe,
    project,
    query_features,
    train_projection,
    training_mentions,
    value_features,
)
from entivec.build.metrics import r_precision_of_ranking
from entivec.loaders.crossner import NOT_A_QUERY, type_name
from entivec.mentions import mentions_of
from entivec.query.search import FUSION_DEPTH, fuse_by_sentence
from entivec.records import Sentence
from entivec.store import Hit
from entivec.vectors import unit

MIN_DEV_MENTIONS = 35
SET_SIZE = 10
METHODS = ("entity", "e5 sentences", "entity + e5, fused")


def held_out_sets(dev: Sequence[Sentence], sets: int) -> list[tuple[str, ...]]:
    """The shipped held-out types, then ``sets`` seeded draws of ten frequent types."""
    counts: dict[str, int] = defaultdict(int)
    for mention in mentions_of(dev):
        counts[mention.span.type] += 1
    pool = sorted(t for t, n in counts.items() if n >= MIN_DEV_MENTIONS and t not in NOT_A_QUERY)
    drawn = [tuple(sorted(random.Random(i).sample(pool, SET_SIZE))) for i in range(1, sets + 1)]
    return [tuple(sorted(HELD_OUT_TYPES)), *drawn]


def _ranking(scores: np.ndarray, sentence_of: np.ndarray, sentences: int) -> list[int]:
    """Sentence indexes by their best score, best first."""
    best = np.full(sentences, -np.inf)
    np.maximum.at(best, sentence_of, scores)
    return [int(i) for i in np.argsort(-best, kind="stable")]


def _fused(first: list[int], second: list[int], depth: int) -> list[int]:
    """The two sentence rankings, ``depth`` deep, fused as ``search_entities`` fuses them."""

    def hits(ranking: list[int]) -> list[Hit]:
        return [
            Hit(str(s), -float(rank), {"corpus": "", "sentence_id": str(s)})
            for rank, s in enumerate(ranking[:depth])
        ]

    fused = fuse_by_sentence([hits(first), hits(second)], k=2 * depth)
    return [int(h.payload["sentence_id"]) for h in fused]


def evaluate_entity_sets(
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    *,
    sets: int = 3,
    seeds: Sequence[int] = (0, 1),
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """R-Precision of the three methods for every held-out set (see the module docstring)."""
    from entivec.registry import get_registry

    dev_mentions = [m for m in mentions_of(dev) if m.span.type not in NOT_A_QUERY]
    keys = sorted({(s.source, s.id) for s in dev})
    index = {key: i for i, key in enumerate(keys)}
    text_of = {(s.source, s.id): s.text for s in dev}
    sentence_of = np.asarray([index[(m.sentence.source, m.sentence.id)] for m in dev_mentions])
    types = sorted({m.span.type for m in dev_mentions})
    relevant = {
        t: {index[(m.sentence.source, m.sentence.id)] for m in dev_mentions if m.span.type == t}
        for t in types
    }
    e5 = get_registry().encoder("e5").load()
    passages = unit(e5.embed_passages([text_of[key] for key in keys]))
    e5_queries = unit(e5.embed_queries([type_name(t) for t in types]))
    e5_rankings = {
        t: [int(i) for i in np.argsort(-(passages @ e5_queries[row]), kind="stable")]
        for row, t in enumerate(types)
    }
    results: list[dict[str, Any]] = []
    for held_out in held_out_sets(dev, sets):
        per_seed: dict[str, list[dict[str, float]]] = {name: [] for name in METHODS}
        for seed in tqdm(
            seeds, desc=f"held out {','.join(held_out)[:40]}", disable=show_progress is False
        ):
            recipe = EntityRecipe(held_out_types=held_out, seed=seed)
            chosen = training_mentions(train, recipe)
            labels = [m.span.type for m in chosen]
            anchor_labels = sorted(set(labels))
            values = value_features(chosen, recipe, show_progress)
            anchors = query_features(anchor_labels, recipe)
            projection = train_projection(values, labels, anchors, anchor_labels, recipe, False)
            mentions = unit(
                project(projection, value_features(dev_mentions, recipe, show_progress))
            )
            queries = unit(project(projection, query_features(types, recipe), queries=True))
            scores = queries @ mentions.T
            rows: dict[str, dict[str, float]] = {name: {} for name in METHODS}
            for row, t in enumerate(types):
                entity = _ranking(scores[row], sentence_of, len(keys))
                depth = FUSION_DEPTH * len(relevant[t])
                for name, ranking in (
                    ("entity", entity),
                    ("e5 sentences", e5_rankings[t]),
                    ("entity + e5, fused", _fused(entity, e5_rankings[t], depth)),
                ):
                    rows[name][t] = r_precision_of_ranking(
                        [str(s) for s in ranking], {str(s) for s in relevant[t]}
                    )
            for name in METHODS:
                per_seed[name].append(rows[name])
        summary: dict[str, dict[str, Any]] = {}
        for name in METHODS:
            held = [np.mean([r[t] for t in types if t in held_out]) for r in per_seed[name]]
            trained = [np.mean([r[t] for t in types if t not in held_out]) for r in per_seed[name]]
            summary[name] = {
                "held_out_types": round(float(np.mean(held)), 4),
                "trained_types": round(float(np.mean(trained)), 4),
                "held_out_by_seed": [round(float(v), 4) for v in held],
            }
        results.append({"held_out": list(held_out), "methods": summary})
    spread = {
        name: {
            "held_out_mean": round(
                float(np.mean([r["methods"][name]["held_out_types"] for r in results])), 4
            ),
            "held_out_min": min(r["methods"][name]["held_out_types"] for r in results),
            "held_out_max": max(r["methods"][name]["held_out_types"] for r in results),
        }
        for name in METHODS
    }
    return {"sets": results, "spread": spread, "seeds": list(seeds), "types": types}
