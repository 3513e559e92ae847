"""Training the ``lang`` routing vector on language-labelled sentences.

A multinomial logistic regression (scikit-learn's ``SGDClassifier`` with log loss,
seeded, so a rerun gives the same weights) over the hashed n-grams of
:func:`entivec.plugins.lang.featurize`. One sentence in :data:`HELD_OUT_EVERY` is held
out from a first fit to calibrate the routing threshold and to record held-out accuracy
in the manifest; the shipped weights are then fitted on every sentence (on WikiANN the
extra 5 % of data is worth 0.6 points of routing accuracy).

The threshold: ``route`` keeps neighbours whose similarity is at least τ. Here τ is the
:data:`THRESHOLD_QUANTILE` quantile of the nearest-neighbour similarity of held-out
sentences, so inputs unlike anything the router was trained on (another script, another
language, noise) come back unrouted while in-distribution inputs almost never do.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from entivec.build.prepare.models import build_once
from entivec.errors import TrainingDataError
from entivec.loaders import LoadStats, load
from entivec.models import artefact_dir
from entivec.plugins.lang import (
    FEATURES,
    HASH_BITS,
    LANGUAGE_SLOTS,
    NAME,
    WEIGHTS,
    centred_scores,
    featurize,
)

log = logging.getLogger(__name__)

HELD_OUT_EVERY = 20
THRESHOLD_QUANTILE = 0.005
NEIGHBOURS = 5
ALPHA = 3e-7
EPOCHS = 30
SEED = 0


def _nearest(
    queries: npt.NDArray[np.float32], stored: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Exact top-k by cosine (rows are unit vectors), in chunks to bound memory."""
    ids, sims = [], []
    for start in range(0, len(queries), 512):
        s = queries[start : start + 512] @ stored.T
        top = np.argpartition(-s, k, axis=1)[:, :k]
        top_s = np.take_along_axis(s, top, 1)
        order = np.argsort(-top_s, axis=1)
        ids.append(np.take_along_axis(top, order, 1))
        sims.append(np.take_along_axis(top_s, order, 1))
    return np.vstack(ids), np.vstack(sims)


def _fit(features: Any, y: npt.NDArray[np.intp], n_languages: int) -> tuple[Any, Any]:
    """Weights ``(languages, features)`` and intercepts of the softmax model."""
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(
        loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=SEED
    ).fit(features, y)
    coef = model.coef_.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if n_languages == 2:  # scikit-learn keeps one row (the log-odds of the second class)
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros_like(intercept), intercept])
    return coef, intercept


def _train(out: Path, texts: list[str], labels: list[str]) -> dict[str, Any]:
    """Calibrate on a held-out slice, then fit the shipped weights on every sentence."""
    from safetensors.numpy import save_file

    languages = sorted(set(labels))
    y = np.array([languages.index(label) for label in labels])
    held = np.arange(len(texts)) % HELD_OUT_EVERY == 0
    features = featurize(texts)
    log.info("calibrating the language vector on %d held-out sentences", int(held.sum()))
    coef, intercept = _fit(features[~held], y[~held], len(languages))

    def vectors(rows: Any) -> npt.NDArray[np.float32]:
        scores = np.asarray(features[rows] @ coef.T, dtype=np.float32) + intercept
        return centred_scores(scores)

    stored, queries = vectors(~held), vectors(held)
    ids, sims = _nearest(queries, stored, NEIGHBOURS)
    stored_y, held_y = y[~held], y[held]
    votes = [Counter(stored_y[row].tolist()).most_common(1)[0][0] for row in ids]
    argmax = np.argmax(queries[:, : len(languages)], axis=1)
    checks = {
        "threshold": round(float(np.quantile(sims[:, 0], THRESHOLD_QUANTILE)), 6),
        "threshold_quantile": THRESHOLD_QUANTILE,
        "held_out_sentences": int(held.sum()),
        "held_out_accuracy_argmax": round(float(np.mean(argmax == held_y)), 4),
        f"held_out_accuracy_top{NEIGHBOURS}_mode": round(
            float(np.mean(np.array(votes) == held_y)), 4
        ),
    }
    # the held-out slice was for measuring; the shipped weights see all the data
    log.info("training the language vector on all %d sentences", len(texts))
    coef, intercept = _fit(features, y, len(languages))
    save_file({"coef": coef, "intercept": intercept}, str(out / WEIGHTS))
    return checks


def train_language_vector(
    format: str,
    paths: list[Path],
    *,
    language: str | None = None,
    limit: int | None = None,
    out: Path | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Train the ``lang`` vector on the sentences of ``paths`` unless it is already built.

    Args:
        format: Corpus format of ``paths``.
        paths: Language-labelled corpus files (language from the path or ``language``).
        language: Language of every file, when the paths do not say.
        limit: Sentences read per file.
        out: Artefact directory; the ``lang`` plugin's cache folder by default.
        force: Retrain even when an artefact from the same files exists.

    Returns:
        The artefact manifest, with held-out accuracy and the calibrated threshold.

    Raises:
        TrainingDataError: Fewer than two or more than 32 languages.
    """
    paths = [Path(p) for p in paths]
    stats = LoadStats()
    texts, labels = [], []
    sentences = (
        s
        for path in paths
        for s in load(format, [path], language=language, limit=limit, stats=stats)
    )
    for sentence in sentences:
        if not sentence.language:
            raise TrainingDataError(
                f"sentence {sentence.id} has no language; pass --language or use paths "
                "like .../de/train.conllu"
            )
        texts.append(sentence.text)
        labels.append(sentence.language)
    counts = Counter(labels)
    if not 2 <= len(counts) <= LANGUAGE_SLOTS:
        raise TrainingDataError(
            f"a router needs 2 to {LANGUAGE_SLOTS} languages; these files have "
            f"{len(counts)}: {', '.join(sorted(counts)) or 'none'}"
        )
    digest = hashlib.sha256(
        "\n".join(f"{lang}\t{text}" for lang, text in zip(labels, texts, strict=True)).encode()
    ).hexdigest()
    manifest = {
        "name": NAME,
        "languages": sorted(counts),
        "sentences_per_language": dict(sorted(counts.items())),
        "hash_bits": HASH_BITS,
        "features": FEATURES,
        "training_data": {
            "format": format,
            "files": [str(p.resolve()) for p in paths],
            "sha256": digest,
        },
        "recipe": f"SGDClassifier(log_loss, alpha={ALPHA}, epochs={EPOCHS}, seed={SEED}), all data",
    }
    return build_once(
        out or artefact_dir(NAME),
        lambda folder: _train(folder, texts, labels),
        manifest,
        what=f"the language vector from {len(texts)} sentences",
        force=force,
    )
