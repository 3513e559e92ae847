"""``entivec eval entity-retrieval``: R-Precision of entity-type search against baselines.

The annotated sentences are ingested (``e5`` sentence points and ``entity`` mention
points); each type present is a query, its name (``political party``) the query text.
A method ranks sentences; R is the number of sentences holding a mention of the type,
and R-Precision is the share of those among the top R (NER Retriever's measure). The
methods, in one run on the same sentences:

- ``entity (store)``: the entity plugin, mention points grouped by sentence;
- ``BM25 (bm25s)``: the type name as a keyword query over the sentences;
- ``e5 sentences (store)``: the type name as an e5 query over the sentence points;
- ``e5 + BM25 sentences, hybrid (store)``: that e5 ranking fused with BM25's by the
  engine (``search_sentences(..., hybrid=True)``, the ``bm25`` plugin's vector);
- ``entity + e5, fused (store)``: the two store rankings fused
  (``search_entities(..., fuse_with="e5")``);
- ``entity + exemplars (store)`` and ``entity + exemplars + e5, fused (store)``: the
  same two with the query expanded by instances of the type that SmolLM2 writes
  (``exemplars=True``, :mod:`entivec.query.exemplars`);
- ``search_entities default (store)``: what a user gets without options (fused with e5
  unless the name is a trained type's);
- raw value vectors (exact search, no projection) at the trained block and at the last
  block, to show what the projection and the choice of block each add.

Types the projection was trained on and held-out types are averaged separately: only
the held-out ones measure zero-shot search.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from entivec.build.metrics import r_precision_of_ranking, sentence_r_precision
from entivec.cli.options import (
    collection_option,
    corpus_arguments,
    entivec_errors,
    json_option,
    language_option,
    progress,
    server_options,
    store_option,
)
from entivec.errors import TrainingDataError
from entivec.loaders import load
from entivec.loaders.crossner import NOT_A_QUERY, type_name
from entivec.mentions import mentions_of, query_input
from entivec.vectors import unit

if TYPE_CHECKING:
    from entivec.api import Entivec
    from entivec.records import Sentence
    from entivec.store import Hit

log = logging.getLogger(__name__)


def sentence_key(corpus: object, sentence_id: object) -> str:
    return f"{corpus}\x1f{sentence_id}"


def _bm25_rankings(sentences: Sequence[Sentence], queries: dict[str, str]) -> dict[str, list[str]]:
    import bm25s

    corpus_tokens = bm25s.tokenize([s.text for s in sentences], stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=False)
    keys = [sentence_key(s.corpus, s.id) for s in sentences]
    rankings: dict[str, list[str]] = {}
    for label, text in queries.items():
        query_tokens = bm25s.tokenize([text], stopwords="en", show_progress=False)
        if not query_tokens.vocab:
            rankings[label] = []
            continue
        documents, scores = retriever.retrieve(query_tokens, k=len(sentences), show_progress=False)
        # sentences without a query word score 0 and carry no ranking information
        rankings[label] = [keys[d] for d, s in zip(documents[0], scores[0], strict=True) if s > 0]
    return rankings


def relevant_sentences(sentences: Sequence[Sentence]) -> dict[str, set[str]]:
    """Per entity type that makes a query, the keys of the sentences mentioning it."""
    relevant: dict[str, set[str]] = defaultdict(set)
    for s in sentences:
        for span in s.spans:
            if span.type not in NOT_A_QUERY:
                relevant[span.type].add(sentence_key(s.corpus, s.id))
    return relevant


def type_set_summary(per_type: dict[str, float], held_out: Sequence[str]) -> dict[str, Any]:
    trained = [v for k, v in per_type.items() if k not in held_out]
    unseen = [v for k, v in per_type.items() if k in held_out]
    return {
        "trained_types": round(float(np.mean(trained)), 4) if trained else None,
        "held_out_types": round(float(np.mean(unseen)), 4) if unseen else None,
        "all_types": round(float(np.mean(list(per_type.values()))), 4),
        "per_type": {k: round(v, 4) for k, v in sorted(per_type.items())},
    }


def evaluate_entity_retrieval(
    ev: Entivec,
    format: str,
    paths: Sequence[Path],
    *,
    language: str | None = None,
    raw_blocks: bool = True,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """R-Precision per type and method (see the module docstring)."""
    from entivec.models import artefact_dir, model_dir, read_manifest

    sentences = list(load(format, paths, language=language))
    relevant = relevant_sentences(sentences)
    if not relevant:
        raise TrainingDataError(
            f"no annotated mentions to evaluate in {', '.join(map(str, paths))}"
        )
    types = sorted(relevant)
    queries = {t: type_name(t) for t in types}
    shipped = read_manifest(artefact_dir("entity"))
    held_out = shipped["training"]["recipe"]["held_out_types"]
    ev.ingest(
        format,
        paths,
        plugins=("e5", "entity", "bm25"),
        language=language,
        show_progress=show_progress,
    )
    searches: dict[str, Callable[..., list[Hit]]] = {
        "entity (store)": partial(ev.search_entities, fuse_with=None),
        "e5 sentences (store)": ev.search_sentences,
        "e5 + BM25 sentences, hybrid (store)": partial(ev.search_sentences, hybrid=True),
        "entity + e5, fused (store)": partial(ev.search_entities, fuse_with="e5"),
        "entity + exemplars (store)": partial(ev.search_entities, exemplars=True, fuse_with=None),
        "entity + exemplars + e5, fused (store)": partial(
            ev.search_entities, exemplars=True, fuse_with="e5"
        ),
        "search_entities default (store)": ev.search_entities,
    }
    rankings: dict[str, dict[str, list[str]]] = {name: {} for name in searches}
    for t in types:
        for name, search in searches.items():
            hits = search(queries[t], k=len(relevant[t]))
            rankings[name][t] = [
                sentence_key(h.payload["corpus"], h.payload["sentence_id"]) for h in hits
            ]
    rankings["BM25 (bm25s)"] = _bm25_rankings(sentences, queries)
    methods = {
        name: type_set_summary(
            {t: r_precision_of_ranking(ranked[t], relevant[t]) for t in types}, held_out
        )
        for name, ranked in rankings.items()
    }
    if raw_blocks:
        from entivec.build.entity.value_vectors import ValueVectorExtractor

        block = max(shipped["blocks"])  # the raw row compares single blocks
        folder = model_dir(shipped["source_model"])
        from entivec.query.language_model import decoder_blocks

        # misc mentions stay: their sentences compete, as they do in the store
        mentions = mentions_of(sentences)
        last = decoder_blocks(folder) - 1
        extractor = ValueVectorExtractor(folder, [block, last])
        values = extractor.encode([m.input for m in mentions], show_progress=show_progress)
        query_values = extractor.encode(
            [query_input(queries[t]) for t in types], show_progress=False
        )
        for b in (block, last):
            per_type = sentence_r_precision(
                unit(query_values[b]) @ unit(values[b]).T,
                types,
                [m.span.type for m in mentions],
                [sentence_key(m.sentence.corpus, m.sentence.id) for m in mentions],
            )
            methods[f"raw value vectors, block {b} (exact)"] = type_set_summary(per_type, held_out)
    return {
        "sentences": len(sentences),
        "types": len(types),
        "held_out_types": sorted(set(held_out) & set(types)),
        "relevant_sentences": {t: len(relevant[t]) for t in types},
        "methods": methods,
    }


# The verb lives beside its evaluation because this module's imports are light: the
# ``eval`` group imports it on every ``entivec`` run, so nothing heavy goes at the top.
@click.command("entity-retrieval")
@corpus_arguments
@store_option("Where the sentences and mentions are ingested.")
@collection_option()
@language_option
@click.option("--no-raw", is_flag=True, help="Skip the raw value-vector rows (exact search).")
@json_option
@entivec_errors
def eval_entity_retrieval(
    format: str,
    paths: tuple[str, ...],
    store: str,
    collection: str,
    language: str | None,
    no_raw: bool,
    as_json: bool,
) -> None:
    """R-Precision of entity-type search on PATHS: entity vectors, BM25 and e5."""
    from entivec.api import Entivec

    with Entivec(store, collection=collection, server=server_options()) as ev:
        result = evaluate_entity_retrieval(
            ev,
            format,
            [Path(p) for p in paths],
            language=language,
            raw_blocks=not no_raw,
            show_progress=progress(as_json),
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"{result['sentences']} sentences, {result['types']} types "
        f"(held out of training: {', '.join(result['held_out_types'])})"
    )
    click.echo(f"{'method':40} {'trained types':>14} {'held-out types':>15} {'all':>7}")
    for name, row in result["methods"].items():
        cells = [row["trained_types"], row["held_out_types"], row["all_types"]]
        click.echo(
            f"{name:40} "
            + " ".join(f"{c:>14.3f}" if c is not None else f"{'-':>14}" for c in cells)
        )
