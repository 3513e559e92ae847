"""Which block's raw value vectors separate entity types best (NER Retriever's layer sweep).

For every block of the decoder, the value vectors of a sample of annotated mentions are
compared pairwise: the AUC says how often a same-type pair is more similar (cosine) than a
different-type pair. R-Precision of the type name as a query over the same sample is
reported beside it (sentence-level, over the sampled mentions), as that is what search
needs. The block with the highest AUC is the
default of ``entivec train entity``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from entivec.build.entity.value_vectors import ValueVectorExtractor
from entivec.build.metrics import sentence_r_precision
from entivec.loaders.crossner import NOT_A_QUERY, type_name
from entivec.mentions import Mention, mentions_of, query_input
from entivec.query.language_model import decoder_blocks
from entivec.records import Sentence
from entivec.vectors import unit


def sample_mentions(sentences: Sequence[Sentence], per_type: int, seed: int = 0) -> list[Mention]:
    """At most ``per_type`` mentions of every searchable type, at most one per sentence."""
    by_type: dict[str, list[Mention]] = defaultdict(list)
    for mention in mentions_of(sentences):
        if mention.span.type not in NOT_A_QUERY:
            by_type[mention.span.type].append(mention)
    rng = random.Random(seed)
    chosen = []
    for label in sorted(by_type):
        candidates = by_type[label][:]
        rng.shuffle(candidates)
        seen: set[str] = set()
        for mention in candidates:
            if mention.sentence.id not in seen:
                seen.add(mention.sentence.id)
                chosen.append(mention)
            if len(seen) == per_type:
                break
    return chosen


def type_auc(vectors: np.ndarray, labels: Sequence[str]) -> float:
    """AUC of cosine similarity for telling same-type pairs from different-type pairs."""
    from sklearn.metrics import roc_auc_score

    normalised = unit(vectors)
    upper = np.triu_indices(len(labels), k=1)
    scores = (normalised @ normalised.T)[upper]
    codes = np.unique(np.asarray(labels), return_inverse=True)[1]
    same = codes[upper[0]] == codes[upper[1]]
    return float(roc_auc_score(same, scores))


def layer_sweep(
    model_folder: Path,
    sentences: Sequence[Sentence],
    *,
    per_type: int = 40,
    seed: int = 0,
    blocks: Sequence[int] | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """AUC, R-Precision and mean norm of raw value vectors at every block.

    Returns:
        ``{"blocks": [{"block", "auc", "r_precision", "norm"}...], "best_block",
        "mentions", "types"}``.
    """
    mentions = sample_mentions(sentences, per_type, seed)
    labels = [m.span.type for m in mentions]
    types = sorted(set(labels))
    if blocks is None:
        blocks = range(decoder_blocks(model_folder))
    extractor = ValueVectorExtractor(model_folder, list(blocks))
    vectors = extractor.encode([m.input for m in mentions], show_progress=show_progress)
    queries = extractor.encode([query_input(type_name(t)) for t in types], show_progress=False)
    rows = []
    for block in extractor.blocks:
        scores = unit(queries[block]) @ unit(vectors[block]).T
        per_query = sentence_r_precision(scores, types, labels, [m.sentence.id for m in mentions])
        rows.append(
            {
                "block": block,
                "auc": round(type_auc(vectors[block], labels), 4),
                "r_precision": round(float(np.mean(list(per_query.values()))), 4),
                "norm": round(float(np.linalg.norm(vectors[block], axis=1).mean()), 2),
                "query_norm": round(float(np.linalg.norm(queries[block], axis=1).mean()), 2),
            }
        )
    best = max(rows, key=lambda row: row["auc"])
    return {
        "blocks": rows,
        "best_block": best["block"],
        "mentions": len(mentions),
        "types": len(types),
        "per_type": per_type,
    }
