"""``entivec eval annotate``: annotating ingestion measured on data whose gold is hidden.

Two measurements, each against the gold the pipeline never sees:

- **languages and spans**: WikiANN sentences with their language and tags removed go
  through the ingestion annotator (routing against the routing index, then the routed
  language's adapter); per language, the share routed to the gold language (unrouted
  counts as wrong) and seqeval's span F1 against the gold tags. Each WikiANN sentence is
  one sentence (segmentation is measured by ``entivec eval segmentation``).
- **entity-type search**: CrossNER sentences ingested twice into scratch stores, once
  with their gold spans and once with spans predicted by the adapters (``ner="force"``),
  both with the ``entity`` plugin; each type's name is a query, and R-Precision is
  computed against the gold sentences of the type in both cases. Predicted spans carry
  WikiANN's types (PER, ORG, LOC), but the ``entity`` vector never reads a span's type,
  only where the span is.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from entivec.annotation.annotator import Annotator
from entivec.build.metrics import r_precision_of_ranking
from entivec.ingest.pipeline import DEFAULT_WINDOW
from entivec.lab.entity_retrieval import (
    relevant_sentences,
    sentence_key,
    type_set_summary,
)
from entivec.lab.ner import span_f1
from entivec.loaders import load
from entivec.loaders.crossner import type_name
from entivec.ner.tagging import tags_from_spans

if TYPE_CHECKING:
    from entivec.api import Entivec
    from entivec.records import Sentence


def hidden(sentence: Sentence) -> Sentence:
    """The sentence as raw text would give it: no language, no spans."""
    return dataclasses.replace(sentence, language="", language_source="", spans=(), span_source="")


def languages_and_spans(
    ev: Entivec,
    format: str,
    paths: Sequence[Path],
    *,
    limit: int | None = None,
    routing_index: str | Path | None = None,
    adapters: str | Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Language accuracy and span F1 of the annotator, per gold language."""
    gold = [s for path in paths for s in load(format, [Path(path)], limit=limit)]
    annotator = Annotator(ev.router(index=routing_index), ev.ner_model(adapters))
    predicted: list[Sentence] = []
    for start in tqdm(
        range(0, len(gold), DEFAULT_WINDOW), desc="annotate", disable=show_progress is False
    ):
        predicted += annotator([hidden(s) for s in gold[start : start + DEFAULT_WINDOW]])
    by_language: dict[str, list[int]] = defaultdict(list)
    for i, sentence in enumerate(gold):
        by_language[sentence.language].append(i)
    rows = {}
    for language, indices in sorted(by_language.items()):
        truth = [tags_from_spans(len(gold[i].tokens), gold[i].spans) for i in indices]
        guess = [tags_from_spans(len(predicted[i].tokens), predicted[i].spans) for i in indices]
        rows[language] = {
            "sentences": len(indices),
            "language_accuracy": round(
                sum(predicted[i].language == language for i in indices) / len(indices), 4
            ),
            "unrouted": round(sum(not predicted[i].language for i in indices) / len(indices), 4),
            "span_f1": span_f1(truth, guess),
        }
    every = list(range(len(gold)))
    overall = {
        "sentences": len(gold),
        "language_accuracy": round(
            sum(predicted[i].language == gold[i].language for i in every) / len(gold), 4
        ),
        "span_f1": span_f1(
            [tags_from_spans(len(s.tokens), s.spans) for s in gold],
            [tags_from_spans(len(s.tokens), s.spans) for s in predicted],
        ),
    }
    return {"by_language": rows, "overall": overall}


def entity_search_with_predicted_spans(
    format: str,
    paths: Sequence[Path],
    *,
    language: str | None = None,
    adapters: str | Path | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """R-Precision of entity-type search over gold spans and over predicted spans."""
    from entivec.api import Entivec
    from entivec.models import artefact_dir, read_manifest

    relevant = relevant_sentences(list(load(format, paths, language=language)))
    held_out = read_manifest(artefact_dir("entity"))["training"]["recipe"]["held_out_types"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for spans, ner in (("gold spans", "off"), ("predicted spans", "force")):
            with Entivec(Path(scratch) / ner) as ev:
                report, _ = ev.ingest(
                    format,
                    paths,
                    plugins=("entity",),
                    language=language,
                    ner=ner,
                    adapters=adapters,
                    show_progress=show_progress,
                )
                per_type = {}
                for t in sorted(relevant):
                    hits = ev.search_entities(type_name(t), k=len(relevant[t]), fuse_with=None)
                    ranked = [
                        sentence_key(h.payload["corpus"], h.payload["sentence_id"]) for h in hits
                    ]
                    per_type[t] = r_precision_of_ranking(ranked, relevant[t])
                results[spans] = {
                    **type_set_summary(per_type, held_out),
                    "mentions": report.mentions,
                }
    gold_row, predicted_row = results["gold spans"], results["predicted spans"]
    results["predicted / gold"] = {
        key: round(predicted_row[key] / gold_row[key], 4) if gold_row[key] else None
        for key in ("trained_types", "held_out_types", "all_types")
    }
    return results
