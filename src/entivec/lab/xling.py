"""``entivec eval xling``: queries in five languages against the English Tatoeba sentences.

The knowledge base (every English line of the pair files) is ingested into the store
with the ``e5`` vector and, when trained, ``e5_xling``; the ``test`` lines of each
language are queries, searched through the store, and MRR and Recall@1/3/10 are
computed from the top 100 hits (a hit is right when its text is the answer's: 71
English lines occur twice). The ablations of ``entivec train e5`` (hardest-only,
random-only negatives, a language held out of training) are not shipped as plugins; they
are evaluated in the same run with exact search over the same knowledge base, as is
the base model, so store and exact search can be compared. The knowledge base also
gets the ``bm25`` vector, for e5 fused with BM25 by the engine (``hybrid=True``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from entivec.build.metrics import (
    RECALL_AT,
    paired_difference,
    reciprocal_ranks,
    retrieval_metrics,
)
from entivec.loaders import tatoeba

if TYPE_CHECKING:
    from entivec.api import Entivec

log = logging.getLogger(__name__)

TOP = 100
CORPUS = "tatoeba"
METRICS = ("mrr", *(f"recall@{k}" for k in RECALL_AT))


def _mean(by_language: dict[str, dict[str, float]]) -> dict[str, float]:
    return {m: round(float(np.mean([row[m] for row in by_language.values()])), 4) for m in METRICS}


def _store_method(
    ev: Entivec, vector: str, pairs: Sequence[tatoeba.Pair], show_progress: bool | None
) -> dict[str, Any]:
    from entivec.registry import get_registry

    _, encoder = ev.encoder(get_registry().encoder_for_vector(vector).name)
    rankings = {}
    for language in sorted({p.language for p in pairs}):
        chosen = [p for p in pairs if p.language == language]
        queries = encoder.embed_queries([p.query for p in chosen])
        rankings[language] = [
            [str(h.payload.get("text", "")) for h in ev.store.search(vector, q.tolist(), TOP)]
            for q in tqdm(queries, desc=f"{vector} {language}", disable=show_progress is False)
        ]
    return _scored(rankings, pairs)


def _hybrid_method(
    ev: Entivec, pairs: Sequence[tatoeba.Pair], show_progress: bool | None
) -> dict[str, Any]:
    """e5 fused with BM25 by the engine (``search_sentences(..., hybrid=True)``)."""
    rankings = {}
    for language in sorted({p.language for p in pairs}):
        chosen = [p for p in pairs if p.language == language]
        rankings[language] = [
            [
                str(h.payload.get("text", ""))
                for h in ev.search_sentences(p.query, k=TOP, hybrid=True)
            ]
            for p in tqdm(chosen, desc=f"hybrid {language}", disable=show_progress is False)
        ]
    return _scored(rankings, pairs)


def _exact_method(
    model_folder: Path, pairs: Sequence[tatoeba.Pair], kb: Sequence[tatoeba.KbEntry]
) -> dict[str, Any]:
    from entivec.build.e5.torch_e5 import TorchE5
    from entivec.build.e5_xling.train import rank_knowledge_base

    model = TorchE5(model_folder)
    return _scored(
        rank_knowledge_base(model.embed_queries, model.embed_passages, pairs, kb, TOP), pairs
    )


def _scored(rankings: dict[str, list[list[str]]], pairs: Sequence[tatoeba.Pair]) -> dict[str, Any]:
    """Metrics per language and their means, plus the per-query reciprocal ranks (in
    language order) that the paired comparisons need."""
    by_language = {}
    per_query: list[float] = []
    for language, ranked in rankings.items():
        answers = [p.answer for p in pairs if p.language == language]
        by_language[language] = retrieval_metrics(ranked, answers)
        per_query += reciprocal_ranks(ranked, answers)
    return {"by_language": by_language, "mean": _mean(by_language), "_per_query": per_query}


def evaluate_xling(
    ev: Entivec,
    folder: Path,
    *,
    split: str = "test",
    ablations: bool = True,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """MRR and Recall@1/3/10 per language and method, and the held-out-language effect.

    Args:
        ev: The store to ingest the knowledge base into and search.
        folder: The Tatoeba directory.
        split: Which lines are queries (``test``; ``dev`` for tuning).
        ablations: Also evaluate, by exact search in PyTorch, the base model and every
            trained run (ablations, held-out languages); about a minute each.
    """
    from entivec.build.e5_xling.train import SAMPLINGS, run_name, training_dir
    from entivec.models import model_dir
    from entivec.registry import get_registry

    languages = tatoeba.languages_in(folder)
    kb = tatoeba.knowledge_base(folder, languages)
    pairs = [
        p for lang in languages for p in tatoeba.split(tatoeba.read_pairs(folder, lang), split)
    ]
    vectors = ["e5"]
    trained = get_registry().encoder("e5_xling").artefact()
    if trained is not None and trained.is_file():
        vectors.append("e5_xling")
    else:
        log.warning("e5_xling is not trained; run `entivec train e5 %s`", folder)
    kb_files = [folder / f"tatoeba.{lang}-eng.eng" for lang in languages]
    # the plugins are named like their vectors
    ev.ingest(
        "lines",
        kb_files,
        plugins=[*vectors, "bm25"],
        language="en",
        corpus=CORPUS,
        show_progress=show_progress,
    )
    methods: dict[str, Any] = {}
    for vector in vectors:
        name = "base e5 (store)" if vector == "e5" else "e5_xling, weighted (store)"
        methods[name] = _store_method(ev, vector, pairs, show_progress)
    methods["base e5 + BM25, hybrid (store)"] = _hybrid_method(ev, pairs, show_progress)
    exact: list[tuple[str, Path]] = [("base e5 (exact)", model_dir("multilingual-e5-small"))]
    exact += [(f"{s} (exact)", training_dir(s) / "model") for s in SAMPLINGS]
    exact += [
        (f"weighted, {lang} not trained (exact)", training_dir("weighted", [lang]) / "model")
        for lang in languages
    ]
    for name, model_folder in exact if ablations else []:
        if not (model_folder / "model.safetensors").is_file():
            continue
        log.info("evaluating %s", name)
        methods[name] = _exact_method(model_folder, pairs, kb)
    unseen = {}
    base = methods["base e5 (store)"]["by_language"]
    for language in languages:
        key = f"weighted, {language} not trained (exact)"
        if key in methods:
            row = methods[key]["by_language"]
            unseen[language] = {
                "run": run_name("weighted", [language]),
                "mrr_base": base[language]["mrr"],
                "mrr_not_trained_on_it": row[language]["mrr"],
                "change": round(row[language]["mrr"] - base[language]["mrr"], 4),
            }
    # the paper's claim, query by query: weighted sampling against each alternative
    paired = {}
    weighted = methods.get("weighted (exact)")
    for other in ("hardest (exact)", "random (exact)", "base e5 (exact)"):
        if weighted and other in methods:
            paired[f"weighted - {other.removesuffix(' (exact)')}"] = paired_difference(
                weighted["_per_query"], methods[other]["_per_query"]
            )
    for method in methods.values():
        del method["_per_query"]
    return {
        "split": split,
        "languages": languages,
        "kb_size": len(kb),
        "queries_per_language": len(pairs) // len(languages),
        "top": TOP,
        "methods": methods,
        "unseen_language": unseen,
        "paired": paired,
    }
