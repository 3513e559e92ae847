"""``entivec eval written``: the raw-text path on text as people write it.

Corpus sentences are detokenised into written form (:mod:`entivec.build.ner.written`:
"Paris ." becomes "Paris."), grouped into documents of a few sentences, one document a
line, and read back by the ``text`` loader with no language, as a user's file would be:
cut into sentences, into words, routed, tagged. Documents of several sentences take
only the corpus sentences that end as a sentence does (".", "!", "?", "…"): about half
of WikiANN's are titles and names ("1. FC Slovácko B"), which no writer strings five
to a line; ``per_document=1`` measures every one, each on its own line. The same
sentences pre-tokenised, each on its own, go through the same annotator as the peer.
Scored against the corpus's gold:

- **mention F1**: a mention is right when its character span in the document and its
  type are the gold ones (micro F1 per language), written and pre-tokenised side by side,
  and again on the sentences without wiki markup (WikiANN keeps Wikipedia's bold and
  italic quotes, ''x'', split by its own tokenizer in ways no writer types). On written
  text a gold mention is its name without the punctuation around it, as entivec stores
  mentions (WikiANN's tokens glue quotes on: «Авиа»); ``gold_as_tokens``
  scores against the characters of the gold tokens as they are;
- **language**: the share of written sentences given their document's language, and
  where the language came from;
- **segmentation**: the share of gold sentences found exactly as one sentence.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from entivec.annotation.annotator import Annotator
from entivec.annotation.words import words
from entivec.build.ner.written import written_sentence
from entivec.ingest.pipeline import DEFAULT_WINDOW
from entivec.lab.annotate import hidden
from entivec.loaders import load
from entivec.ner.tagging import mention_edges
from entivec.records import Sentence

if TYPE_CHECKING:
    from entivec.api import Entivec

Mention = tuple[int, int, int, str]  # document, start, end, type
ENDS = (".", "!", "?", "…")
WIKI_MARKUP = ("''", "==", "**")


def _annotated(annotator: Annotator, sentences: list[Sentence], show: bool) -> list[Sentence]:
    out: list[Sentence] = []
    for start in tqdm(range(0, len(sentences), DEFAULT_WINDOW), desc="annotate", disable=not show):
        out += annotator(sentences[start : start + DEFAULT_WINDOW])
    return out


def _name_of(text: str, start: int, end: int) -> tuple[int, int]:
    """A gold mention's characters as entivec stores a mention: its words without the
    punctuation around the name (:func:`~entivec.ner.tagging.mention_edges`; WikiANN's
    tokens glue quotes to names, «Авиа», and a writer's «Авиа» names Авиа)."""
    cut = [w for w in words(text) if w[1] < end and w[2] > start]
    first, last = mention_edges([w for w, _, _ in cut], 0, len(cut))
    if first >= last:
        return start, end
    return max(start, cut[first][1]), min(end, cut[last - 1][2])


def _f1(gold: set[Any], found: set[Any]) -> dict[str, float]:
    hits = len(gold & found)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate_written(
    ev: Entivec,
    format: str,
    paths: Sequence[Path],
    *,
    language: str | None = None,
    limit: int | None = None,
    per_document: int = 5,
    routing_index: str | Path | None = None,
    adapters: str | Path | None = None,
    engine: str = "onnx",
    types: dict[str, str] | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Mention F1 on written documents against the same sentences pre-tokenised, language
    accuracy and segmentation, per gold language (see the module docstring).

    Args:
        engine: The NER engine (:meth:`~entivec.api.Entivec.ner_model`).
        types: Gold type -> the adapters' type, for a corpus that names them otherwise
            (CoNLL-2003's ``person`` is WikiANN's ``PER``).
    """
    documents: list[str] = []
    doc_language: list[str] = []
    gold_written: set[Mention] = set()
    gold_as_tokens: set[Mention] = set()
    gold_sentences: set[tuple[int, int, int]] = set()
    corpus_sentences: list[Sentence] = []
    skipped = fragments = 0
    for path in paths:
        group: list[Sentence] = []
        for sentence in [*load(format, [path], language=language, limit=limit), None]:
            if sentence is not None:
                if types:
                    sentence = dataclasses.replace(
                        sentence,
                        spans=tuple(
                            dataclasses.replace(x, type=types.get(x.type, x.type))
                            for x in sentence.spans
                        ),
                    )
                as_written = written_sentence(sentence)
                if as_written is None:
                    skipped += 1
                    continue
                if per_document > 1 and not as_written.text.rstrip("\"'»”)").endswith(ENDS):
                    fragments += 1
                    continue
                group.append(as_written)
            if group and (sentence is None or len(group) == per_document):
                index, at, parts = len(documents), 0, []
                for member in group:
                    gold_sentences.add((index, at, at + len(member.text)))
                    for span in member.spans:
                        start, end = member.char_offsets(span)
                        gold_as_tokens.add((index, at + start, at + end, span.type))
                        start, end = _name_of(member.text, start, end)
                        gold_written.add((index, at + start, at + end, span.type))
                    parts.append(member.text)
                    at += len(member.text) + 1
                documents.append(" ".join(parts))
                doc_language.append(group[0].language)
                corpus_sentences += group
                group = []
    annotator = Annotator(ev.router(index=routing_index), ev.ner_model(adapters, engine))
    with tempfile.TemporaryDirectory() as scratch:
        text_file = Path(scratch) / "documents.txt"
        text_file.write_text("\n".join(documents) + "\n", encoding="utf-8")
        raw = list(load("text", [text_file], require_language=False))
    written = _annotated(annotator, raw, show_progress)
    pretokenised = _annotated(
        annotator,
        [hidden(dataclasses.replace(s, written="", offsets=())) for s in corpus_sentences],
        show_progress,
    )
    found_written: set[Mention] = set()
    found_sentences: set[tuple[int, int, int]] = set()
    languages: dict[str, Counter[str]] = defaultdict(Counter)
    sources: dict[str, Counter[str]] = defaultdict(Counter)
    for sentence in written:
        index = sentence.line - 1
        offset = sentence.doc_span[0] if sentence.doc_span else 0
        found_sentences.add((index, offset, offset + len(sentence.text)))
        for span in sentence.spans:
            start, end = sentence.char_offsets(span)
            found_written.add((index, offset + start, offset + end, span.type))
        truth = doc_language[index]
        languages[truth][
            "right"
            if sentence.language == truth
            else ("null" if not sentence.language else "wrong")
        ] += 1
        sources[truth][sentence.language_source or "none"] += 1
    gold_tokens: set[tuple[int, int, int, str]] = set()
    found_tokens: set[tuple[int, int, int, str]] = set()
    for i, (gold, guess) in enumerate(zip(corpus_sentences, pretokenised, strict=True)):
        gold_tokens |= {(i, s.start, s.end, s.type) for s in gold.spans}
        found_tokens |= {(i, s.start, s.end, s.type) for s in guess.spans}
    sentence_language = [s.language for s in corpus_sentences]
    markup_docs = {i for i, text in enumerate(documents) if any(m in text for m in WIKI_MARKUP)}
    markup_rows = {
        i for i, s in enumerate(corpus_sentences) if any(m in s.text for m in WIKI_MARKUP)
    }
    rows: dict[str, Any] = {}
    for lang in sorted(set(doc_language)):
        docs = {i for i, code in enumerate(doc_language) if code == lang}
        rows_of = {i for i, code in enumerate(sentence_language) if code == lang}
        tokens_f1 = _f1(
            {m for m in gold_tokens if m[0] in rows_of},
            {m for m in found_tokens if m[0] in rows_of},
        )
        written_f1 = _f1(
            {m for m in gold_written if m[0] in docs}, {m for m in found_written if m[0] in docs}
        )
        as_tokens_f1 = _f1(
            {m for m in gold_as_tokens if m[0] in docs}, {m for m in found_written if m[0] in docs}
        )
        plain_tokens = _f1(
            {m for m in gold_tokens if m[0] in rows_of - markup_rows},
            {m for m in found_tokens if m[0] in rows_of - markup_rows},
        )
        plain_written = _f1(
            {m for m in gold_written if m[0] in docs - markup_docs},
            {m for m in found_written if m[0] in docs - markup_docs},
        )
        counts = languages[lang]
        total = sum(counts.values())
        rows[lang] = {
            "documents": len(docs),
            "sentences": len(rows_of),
            "pretokenised": tokens_f1,
            "written": written_f1,
            "ratio": round(written_f1["f1"] / tokens_f1["f1"], 4) if tokens_f1["f1"] else None,
            "gold_as_tokens": {
                "written": as_tokens_f1,
                "ratio": round(as_tokens_f1["f1"] / tokens_f1["f1"], 4)
                if tokens_f1["f1"]
                else None,
            },
            "without_markup": {
                "sentences": len(rows_of - markup_rows),
                "pretokenised": plain_tokens,
                "written": plain_written,
                "ratio": round(plain_written["f1"] / plain_tokens["f1"], 4)
                if plain_tokens["f1"]
                else None,
            },
            "language_right": round(counts["right"] / total, 4),
            "language_wrong": round(counts["wrong"] / total, 4),
            "language_null": round(counts["null"] / total, 4),
            "language_sources": dict(sources[lang]),
            "segmentation_exact": round(
                len({g for g in gold_sentences if g[0] in docs} & found_sentences)
                / max(1, sum(1 for g in gold_sentences if g[0] in docs)),
                4,
            ),
        }
    overall_tokens = _f1(gold_tokens, found_tokens)
    overall_written = _f1(gold_written, found_written)
    overall_as_tokens = _f1(gold_as_tokens, found_written)
    return {
        "by_language": rows,
        "overall": {
            "documents": len(documents),
            "sentences": len(corpus_sentences),
            "not_detokenised": skipped,
            "not_sentences": fragments,
            "pretokenised": overall_tokens,
            "written": overall_written,
            "ratio": round(overall_written["f1"] / overall_tokens["f1"], 4)
            if overall_tokens["f1"]
            else None,
            "gold_as_tokens": {
                "written": overall_as_tokens,
                "ratio": round(overall_as_tokens["f1"] / overall_tokens["f1"], 4)
                if overall_tokens["f1"]
                else None,
            },
        },
    }
