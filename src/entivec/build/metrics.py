"""The metrics that training and the lab both score with.

Entity-type search: R-Precision with NER Retriever's sentence-level semantics. A query
(a type) is answered by sentences: a sentence is relevant when it contains at least one
mention of the type, it ranks by its best-scoring mention, and R is the number of
relevant sentences. Written here because the libraries that compute it (ranx,
pytrec_eval) need run files and qrels for what is three lines of numpy.

Cross-lingual retrieval: MRR and Recall@k for queries with one right answer *text*. The
knowledge base holds some English sentences twice, and a hit is right when its text is
the answer's, which ranx or ir-measures would need a relevance file per query to
express. Ranks beyond the retrieved list count as misses (reciprocal rank 0).

In-context typing (RUIE's evaluation): micro F1 of mention typing, and the spread of LM
scores across demonstrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from entivec.errors import InvalidArgumentError

RECALL_AT = (1, 3, 10)


# entity-type search
def r_precision_of_ranking(ranked_sentences: Sequence[str], relevant: set[str]) -> float:
    """Share of relevant sentences among the first ``len(relevant)`` of a ranking."""
    if not relevant:
        return 0.0
    return sum(1 for s in ranked_sentences[: len(relevant)] if s in relevant) / len(relevant)


def sentence_r_precision(
    scores: np.ndarray,
    query_types: Sequence[str],
    mention_types: Sequence[str],
    mention_sentences: Sequence[str],
) -> dict[str, float]:
    """R-Precision per query type from a (queries × mentions) score matrix.

    Every sentence is scored by its best mention; a sentence is relevant to a type when
    one of its mentions has that type.
    """
    sentence_ids, sentence_of = np.unique(np.asarray(mention_sentences), return_inverse=True)
    result = {}
    for row, label in enumerate(query_types):
        best = np.full(len(sentence_ids), -np.inf)
        np.maximum.at(best, sentence_of, scores[row])
        ranking = [str(s) for s in sentence_ids[np.argsort(-best, kind="stable")]]
        relevant = {
            str(sentence_ids[sentence_of[i]]) for i, t in enumerate(mention_types) if t == label
        }
        result[label] = r_precision_of_ranking(ranking, relevant)
    return result


# cross-lingual retrieval


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


# in-context typing
def micro_f1(gold: Sequence[str], predicted: Sequence[str | None]) -> float:
    """Micro F1 of mention typing: an unreadable answer is a miss, a wrong type is also
    a false positive (so F1 equals accuracy when every answer is readable)."""
    if len(gold) != len(predicted):
        raise InvalidArgumentError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        return 0.0
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    answered = sum(p is not None for p in predicted)
    precision = correct / answered if answered else 0.0
    recall = correct / len(gold)
    return 0.0 if correct == 0 else 2 * precision * recall / (precision + recall)


def spread(scores: Any) -> dict[str, float]:
    """How much LM scores move with the demonstration, per input, averaged over inputs.

    ``scores`` is ``(inputs, candidates)``: the standard deviation across candidates
    and the gap between the best and the median candidate.
    """
    matrix = np.asarray(scores, dtype=np.float64)
    return {
        "std": float(matrix.std(axis=1).mean()),
        "best_minus_median": float((matrix.max(axis=1) - np.median(matrix, axis=1)).mean()),
    }
