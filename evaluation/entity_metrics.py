"""R-Precision of entity-type search, with NER Retriever's sentence-level semantics.

A query (a type) is answered by sentences: a sentence is relevant when it contains at
least one mention of the type, it ranks by its best-scoring mention, and R is the
number of relevant sentences. R-Precision is the share of relevant sentences among the
top R. Written here because the libraries that compute it (ranx, pytrec_eval) need run
files and qrels for what is three lines of numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


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
