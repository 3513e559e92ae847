"""Metrics of in-context typing with demonstrations (RUIE's evaluation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from entivec.errors import InvalidArgumentError


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
