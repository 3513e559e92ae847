"""Ranking metrics for queries with one right answer text (MRR, Recall@k).

Written here rather than taken from ranx or ir-measures: the knowledge base holds some
English sentences twice, and a hit is right when its *text* is the answer's, which
those libraries would need a relevance file per query to express. Ranks beyond the
retrieved list count as misses (reciprocal rank 0).
"""

from __future__ import annotations

from collections.abc import Sequence

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
