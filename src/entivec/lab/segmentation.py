"""``entivec eval segmentation``: sentence segmenters on documents whose sentences are known.

Documents are made by joining consecutive real sentences with one space: Tatoeba's
sentences in the six languages (short, clean), and CrossNER's English sentences (news
and Wikipedia, with abbreviations such as ``U.S.`` and ``Inc.``; their tokens are
detokenised first). A segmenter is scored on how many gold sentences it returns exactly
(after stripping spaces), and timed. Each runs twice: with the document's language, and
with English rules for every language, since a raw document's language is only known
after its sentences are routed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from entivec.cli.options import entivec_errors, json_option
from entivec.loaders import load
from entivec.loaders.tatoeba import MONOLINGUAL_FILES

Segmenter = Callable[[str, str], list[str]]
PER_DOCUMENT = 4


def _sentencex(text: str, language: str) -> list[str]:
    import sentencex

    return list(sentencex.segment(language, text))


def _pysbd(text: str, language: str) -> list[str]:
    import pysbd

    return list(pysbd.Segmenter(language=language, clean=False).segment(text))


def _entivec(text: str, language: str) -> list[str]:
    from entivec.annotation.segmentation import sentence_spans

    return [text[start:end] for start, end in sentence_spans(text, language)]


SEGMENTERS: dict[str, Segmenter] = {
    "sentencex": _sentencex,
    "entivec": _entivec,
    "pysbd": _pysbd,
}


def detokenise(tokens: Sequence[str]) -> str:
    """CoNLL tokens back to text: no space before closing punctuation or after opening."""
    text = " ".join(tokens)
    text = re.sub(r" ([.,;:!?%)\]}»”])", r"\1", text)
    text = re.sub(r"([(\[{«„“]) ", r"\1", text)
    return re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)


def documents(
    sentences: Sequence[str], per_document: int = PER_DOCUMENT
) -> list[tuple[str, list[str]]]:
    """Consecutive sentences joined into documents: ``(text, its sentences)``."""
    out = []
    for start in range(0, len(sentences) - per_document + 1, per_document):
        part = [s.strip() for s in sentences[start : start + per_document]]
        out.append((" ".join(part), part))
    return out


def corpora(tatoeba: Path, crossner: Sequence[Path], per_language: int) -> dict[str, list[str]]:
    """Gold sentences per corpus: ``tatoeba-de`` ... and ``crossner-en``."""
    found: dict[str, list[str]] = {}
    for language, name in MONOLINGUAL_FILES.items():
        lines = (tatoeba / name).read_text(encoding="utf-8").splitlines()
        found[f"tatoeba-{language}"] = [line for line in lines if line.strip()][:per_language]
    english = [
        detokenise(s.tokens)
        for s in load("conll", list(crossner), language="en")
        if s.tokens[-1] in {".", "!", "?"}
    ]
    found["crossner-en"] = english[:per_language]
    return found


def starts(text: str, pieces: Sequence[str]) -> set[int]:
    """Character offsets where the pieces after the first begin in ``text``."""
    found, cursor = set(), 0
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        at = text.find(piece, cursor)
        if at < 0:  # a segmenter that rewrote the text: no boundary is credited
            continue
        found.add(at)
        cursor = at + len(piece)
    found.discard(0)
    return found


def evaluate_segmenters(
    gold: dict[str, list[str]], segmenters: dict[str, Segmenter] | None = None
) -> dict[str, Any]:
    """How each segmenter finds the boundaries between a document's gold sentences.

    ``recall`` is the share of the boundaries between joined sentences that a segmenter
    finds (a missed one merges two sentences into one point); ``extra`` counts the
    boundaries it puts inside a gold sentence, per 100 sentences: some are right (a
    Tatoeba line can hold two sentences), most are splits at an abbreviation.

    Returns:
        ``{"rows": [{segmenter, rules, corpus: {recall, extra}, sentences_per_second}]}``.
    """
    rows = []
    for name, segment in (segmenters or SEGMENTERS).items():
        for rules in ("language", "english"):
            row: dict[str, Any] = {"segmenter": name, "rules": rules}
            started, total = time.perf_counter(), 0
            for corpus, sentences in gold.items():
                language = corpus.rsplit("-", 1)[1] if rules == "language" else "en"
                found = missed = extra = 0
                for text, expected in documents(sentences):
                    truth, offset = set(), 0
                    for sentence in expected[:-1]:
                        offset += len(sentence) + 1
                        truth.add(offset)
                    predicted = starts(text, segment(text, language))
                    found += len(truth & predicted)
                    missed += len(truth - predicted)
                    extra += len(predicted - truth)
                    total += len(expected)
                row[corpus] = {
                    "recall": round(found / max(1, found + missed), 4),
                    "extra": round(100 * extra / max(1, len(sentences)), 2),
                }
            row["sentences_per_second"] = round(total / (time.perf_counter() - started))
            rows.append(row)
    return {
        "per_document": PER_DOCUMENT,
        "corpora": {c: len(s) for c, s in gold.items()},
        "rows": rows,
    }


# The verb lives beside its evaluation because this module's imports are light: the
# ``eval`` group imports it on every ``entivec`` run, so nothing heavy goes at the top.
@click.command("segmentation")
@click.argument("tatoeba", type=click.Path(file_okay=False, exists=True))
@click.argument("crossner", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--per-corpus",
    type=click.IntRange(min=8),
    default=400,
    show_default=True,
    help="Gold sentences per corpus (joined four to a document).",
)
@json_option
@entivec_errors
def eval_segmentation(
    tatoeba: str, crossner: tuple[str, ...], per_corpus: int, as_json: bool
) -> None:
    """Sentence segmenters (sentencex alone, entivec's: sentencex and its rules, pysbd)
    on documents of known sentences: Tatoeba's six languages (folder TATOEBA) and
    CrossNER's English (CoNLL files CROSSNER)."""
    from entivec.extras import require_extra

    require_extra("eval", ("pysbd",), "the segmenter comparison")
    gold = corpora(Path(tatoeba), [Path(p) for p in crossner], per_corpus)
    result = evaluate_segmenters(gold)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    names = list(result["corpora"])
    click.echo(
        f"boundary recall (extra boundaries per 100 sentences); {result['per_document']} "
        "sentences per document"
    )
    click.echo(f"{'segmenter':28}" + "".join(f"{n:>16}" for n in names) + f"{'sent/s':>10}")
    for row in result["rows"]:
        cells = "".join(f"{row[n]['recall']:>9.3f} ({row[n]['extra']:>4.1f})" for n in names)
        label = f"{row['segmenter']}, {row['rules']} rules"
        click.echo(f"{label:28}{cells}{row['sentences_per_second']:>10,}")
