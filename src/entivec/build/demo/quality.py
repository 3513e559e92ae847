"""How the reward models and the students are measured: how they order an input's
candidates against the LM's own ranking, and what a student's search of the whole pool
returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from entivec.build.demo.examples import ScoredInput, query_text
from entivec.build.mean_pooled import MeanPooledEncoder
from entivec.query.prompts import Example


def ranking_quality(scored: Sequence[ScoredInput], predicted: Sequence[Any]) -> dict[str, float]:
    """How well ``predicted`` scores (one array per input) rank candidates as the LM does.

    ``spearman``: mean rank correlation with the LM scores; ``top1_regret``: LM score of
    the LM's favourite minus that of the predicted favourite (0 is perfect);
    ``top1_same_type``: share of inputs whose predicted favourite has the input's type.
    """
    from scipy.stats import spearmanr

    rho, regret, same = [], [], []
    for item, scores in zip(scored, predicted, strict=True):
        lm = np.asarray(item.scores)
        rho.append(float(spearmanr(scores, lm).statistic))
        best = int(np.argmax(scores))
        regret.append(float(lm.max() - lm[best]))
        same.append(item.candidates[best].type == item.example.type)
    return {
        "spearman": round(float(np.nanmean(rho)), 4),
        "top1_regret": round(float(np.mean(regret)), 4),
        "top1_same_type": round(float(np.mean(same)), 4),
    }


def bi_encoder_scores(
    encoder: MeanPooledEncoder, scored: Sequence[ScoredInput], text_form: str
) -> list[npt.NDArray[np.float32]]:
    """A bi-encoder's cosines between each input and its candidates, read in ``text_form``."""
    return [
        (
            encoder.embed([query_text(s.example, text_form)])
            @ encoder.embed([c.demonstration_text(text_form) for c in s.candidates]).T
        )[0]
        for s in scored
    ]


def pool_precision(
    encoder: Any,
    inputs: Sequence[Example],
    pool: Sequence[Example],
    text_form: str,
    ks: Sequence[int] = (1, 4, 8),
) -> dict[str, float]:
    """Share of a bi-encoder's top ``k`` over the whole pool that has the input's type.

    What a search returns at run time, unlike :func:`ranking_quality`, which only orders
    the scored candidates; the LM answers mostly with a demonstration's type (docs/ruie.md),
    so this is the cheap check of a student before the in-context evaluation.
    """
    pool_vectors = encoder.embed([d.demonstration_text(text_form) for d in pool])
    query_vectors = encoder.embed([query_text(e, text_form) for e in inputs])
    types = np.array([d.type for d in pool])
    order = np.argsort(-(query_vectors @ pool_vectors.T), axis=1, kind="stable")
    same = types[order[:, : max(ks)]] == np.array([e.type for e in inputs])[:, None]
    return {f"p@{k}": round(float(same[:, :k].mean()), 4) for k in ks}
