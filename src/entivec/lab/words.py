"""``entivec eval words``: which word splitter cuts written text as the corpora are cut.

Corpus sentences are detokenised into written form (:mod:`entivec.build.ner.written`),
then each candidate cuts the written text into words again. Two scores per corpus: the
share of sentences whose words are exactly the corpus's tokens, and the share of gold
entity spans whose first and last characters fall on word boundaries (a span that
does not can never be found exactly). The candidates: whitespace (what raw text had
before), HF tokenizers' ``Whitespace`` and ``BertPreTokenizer``, Moses' tokenizer
(sacremoses; it gives no offsets, so its tokens are found in order), the regex the design
card suggests, and entivec's (:mod:`entivec.annotation.words`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from entivec.cli.options import corpus_arguments, entivec_errors, json_option

Splitter = Callable[[str, str], list[tuple[int, int]]]


def _regex(pattern: str) -> Splitter:
    import regex

    compiled = regex.compile(pattern)
    return lambda text, _language: [m.span() for m in compiled.finditer(text)]


def _pre_tokenizer(name: str) -> Splitter:
    from tokenizers import pre_tokenizers

    splitter = getattr(pre_tokenizers, name)()
    return lambda text, _language: [span for _, span in splitter.pre_tokenize_str(text)]


def _moses(text: str, language: str) -> list[tuple[int, int]]:
    from sacremoses import MosesTokenizer

    found, cursor = [], 0
    for token in MosesTokenizer(lang=language).tokenize(text, escape=False):
        start = text.find(token, cursor)
        if start < 0:
            continue
        found.append((start, start + len(token)))
        cursor = start + len(token)
    return found


def _entivec(text: str, _language: str) -> list[tuple[int, int]]:
    from entivec.annotation.words import words

    return [(start, end) for _, start, end in words(text)]


SPLITTERS: dict[str, Splitter] = {
    "whitespace": _regex(r"\S+"),
    "tokenizers Whitespace": _pre_tokenizer("Whitespace"),
    "tokenizers BertPreTokenizer": _pre_tokenizer("BertPreTokenizer"),
    "Moses (sacremoses)": _moses,
    "design card regex": _regex(r"\w+(?:['’\-]\w+)*|[^\w\s]"),
    "entivec (annotation/words.py)": _entivec,
}


def evaluate_words(
    format: str, paths: Sequence[Path], *, language: str | None, limit: int | None
) -> dict[str, Any]:
    """Per corpus file and splitter: exact token sequences and representable spans."""
    from entivec.build.ner.written import written_form
    from entivec.loaders import load

    result: dict[str, Any] = {}
    for path in paths:
        rows: dict[str, dict[str, float]] = {}
        sentences = list(load(format, [path], language=language, limit=limit))
        forms = [(s, w) for s in sentences if (w := written_form(s.tokens, s.language)) is not None]
        spans = sum(len(s.spans) for s, _ in forms)
        for name, split in SPLITTERS.items():
            exact = kept = 0
            for sentence, written in forms:
                cut = split(written.text, sentence.language)
                exact += cut == list(written.offsets)
                starts = {a for a, _ in cut}
                ends = {b for _, b in cut}
                for span in sentence.spans:
                    first, last = written.char_span(span)
                    kept += first in starts and last in ends
            rows[name] = {
                "tokens_exact": round(exact / max(1, len(forms)), 4),
                "spans_on_boundaries": round(kept / max(1, spans), 4),
            }
        result[str(path)] = {"sentences": len(forms), "spans": spans, "splitters": rows}
    return result


@click.command("words")
@corpus_arguments
@click.option("--language", help="The files' language (default: from each path).")
@click.option("--limit", type=click.IntRange(min=1), default=2000, show_default=True)
@json_option
@entivec_errors
def eval_words(
    format: str, paths: tuple[str, ...], language: str | None, limit: int, as_json: bool
) -> None:
    """Word splitters on detokenised corpus sentences: the share of sentences cut exactly
    into the corpus's tokens, and of entity spans whose edges fall between words."""
    result = evaluate_words(format, [Path(p) for p in paths], language=language, limit=limit)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for path, found in result.items():
        click.echo(f"{path}: {found['sentences']} sentences, {found['spans']} spans")
        click.echo(f"  {'splitter':32}{'tokens exact':>14}{'spans on boundaries':>22}")
        for name, row in found["splitters"].items():
            click.echo(
                f"  {name:32}{row['tokens_exact']:>14.3f}{row['spans_on_boundaries']:>22.3f}"
            )
