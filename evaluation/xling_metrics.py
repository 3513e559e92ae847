"""Ranking metrics for queries with one right answer text (MRR, Recall@k).

Written here rather than taken from ranx or ir-measures: the knowledge base holds some
English sentences twice, and a hit is right when its *text* is the answer's, which
those libraries would need a relevance file per query to express. Ranks beyond the
retrieved list count as misses (reciprocal rank 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RECALL_AT = (1, 3, 10)


def first_right_rank(ranked: Sequence[str], answer: str) -> int | None:
    """1-based rank of the first entry equal to ``answer``, ``None`` if absent."""
    for rank, text in enumerate(ranked, start=1):
        if text == answer:
            return rank
    return None


def retrieval_metrics(
    rankings: Sequence[Sequence[str]], answers: Sequence[str]
) -> dict[str, float]:
    """MRR and Recall@1/3/10 of ranked texts against the answers, rounded to 4 places."""
    if len(rankings) != len(answers):
        raise ValueError(f"{len(rankings)} rankings for {len(answers)} answers")
    ranks = [first_right_rank(r, a) for r, a in zip(rankings, answers, strict=True)]
    n = max(1, len(ranks))
    out = {"mrr": round(sum(1 / r for r in ranks if r) / n, 4)}
    for k in RECALL_AT:
        out[f"recall@{k}"] = round(sum(1 for r in ranks if r and r <= k) / n, 4)
    out["queries"] = len(ranks)
    return out


def reciprocal_ranks(rankings: Sequence[Sequence[str]], answers: Sequence[str]) -> list[float]:
    """Per query, 1 / rank of the first right hit (0 when it was not retrieved)."""
    ranks = [first_right_rank(r, a) for r, a in zip(rankings, answers, strict=True)]
    return [1 / r if r else 0.0 for r in ranks]


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """How much method ``a`` beats ``b`` on the same queries (per-query reciprocal ranks).

    Two methods that differ by .001 MRR over 1,500 queries may still differ reliably,
    or not at all; the paired view tells which: the mean difference, its standard
    error, the two-sided p-value of a paired t-test, and how many queries each wins.
    """
    import numpy as np
    from scipy.stats import ttest_rel

    if len(a) != len(b) or not a:
        raise ValueError(f"paired scores need the same queries; got {len(a)} and {len(b)}")
    difference = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    same = bool(np.all(difference == 0))
    return {
        "mrr_difference": round(float(difference.mean()), 4),
        "standard_error": round(float(difference.std(ddof=1) / np.sqrt(len(difference))), 4)
        if len(difference) > 1
        else None,
        # identical rankings make the t statistic 0/0
        "p_value": 1.0 if same else float(f"{ttest_rel(a, b).pvalue:.3g}"),
        "a_better": int((difference > 0).sum()),
        "b_better": int((difference < 0).sum()),
        "queries": len(difference),
    }
