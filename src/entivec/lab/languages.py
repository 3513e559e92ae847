"""``entivec eval languages``: routing with the wide identifier, on written sentences of
the routing index's six languages and of languages it does not hold.

The six: WikiANN sentences detokenised into written form
(:mod:`entivec.build.ner.written`). The others: translated messages from the gettext
catalogs of the machine's programs (``/usr/share/locale/<lang>/LC_MESSAGES/*.mo``), read
with the standard library: real sentences written by people, in a genre of their own
(user interfaces), kept when they have at least five words once format placeholders,
accelerator marks, addresses and the quotes left empty are taken out, and dropped when
left untranslated (the English original) or when they read as a command line (``=``,
``--``, ``|``, ``_``) or mostly not as letters. Each text is routed on its own, with the
wide identifier and without it (the vote alone); the report gives, per language, the
share named right, named wrong, and left unnamed.
"""

from __future__ import annotations

import gettext
import random
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from entivec.build.ner.written import written_form
from entivec.loaders import load

if TYPE_CHECKING:
    from entivec.api import Entivec

PLACEHOLDER = re.compile(
    r"%\d+\$[-+ #0']*\d*(?:\.\d+)?[a-zA-Z]+|%\([^)]*\)[-+ #0]*\d*(?:\.\d+)?[a-zA-Z]"
    r"|%[-+ #0']*\d*(?:\.\d+)?[hlLqjzt]*[a-zA-Z%]|\$\{[^}]*\}|\{[^{}\s]*\}|<[^<>]{1,40}>"
    r"|&[a-zA-Z]+;|\b(?:https?|ftp)://\S+|\b[\w.-]+@[\w.-]+\.\w+\b|(?:/[\w.-]+){2,}"
)
ACCELERATOR = re.compile(r"(?<![\w&_])[_&](?=\w)|(?<=\w)_(?=\w)|\(\s*[_&]\w\s*\)")
MIN_WORDS = 5
COMMAND_MARKS = ("_", "=", "--", "\\", "|")
SEED = 0


def _cleaned(message: str) -> str | None:
    text = ACCELERATOR.sub("", PLACEHOLDER.sub(" ", message))
    text = re.sub(r"\s+", " ", text).strip()
    # quotes and brackets a removed placeholder left empty: "« »", "( )", "' '"
    text = re.sub(r"([«(\[\"'“„‘])\s*([»)\]\"'”“’])", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"\s+", " ", text).strip(" ,;:-")
    visible = text.replace(" ", "")
    if len(text.split()) < MIN_WORDS or any(mark in text for mark in COMMAND_MARKS):
        return None
    if sum(c.isalpha() for c in visible) < 0.75 * len(visible):
        return None
    return text


def gettext_sentences(locale_dir: Path, language: str, limit: int) -> list[str]:
    """Up to ``limit`` distinct sentence-like translations into ``language`` from the
    catalogs under ``locale_dir`` (a seeded sample)."""
    found: set[str] = set()
    folders = [locale_dir / language, *sorted(locale_dir.glob(f"{language}_*"))]
    for catalog in sorted(f for folder in folders for f in folder.glob("LC_MESSAGES/*.mo")):
        try:
            with catalog.open("rb") as handle:
                messages = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # a catalog in another encoding, or damaged: not this study's data
        for key, value in messages.items():
            original = key[0] if isinstance(key, tuple) else key
            if not original or not isinstance(value, str) or value.strip() == original.strip():
                continue  # the catalog's header, or a message left in English
            if text := _cleaned(value):
                found.add(text)
    ordered = sorted(found)
    random.Random(SEED).shuffle(ordered)
    return ordered[:limit]


def _scores(truth: str, answers: Sequence[str | None]) -> dict[str, Any]:
    counts = Counter("right" if a == truth else ("null" if a is None else "wrong") for a in answers)
    n = max(1, len(answers))
    return {
        "right": round(counts["right"] / n, 4),
        "wrong": round(counts["wrong"] / n, 4),
        "null": round(counts["null"] / n, 4),
        "named": dict(Counter(a for a in answers if a != truth and a is not None).most_common(3)),
    }


def evaluate_languages(
    ev: Entivec,
    format: str,
    paths: Sequence[Path],
    *,
    outside: Sequence[str],
    locale_dir: Path,
    limit: int,
    routing_index: str | Path | None = None,
) -> dict[str, Any]:
    """Per language: right, wrong and unnamed shares, with and without the wide
    identifier (see the module docstring)."""
    texts: dict[str, list[str]] = {}
    for path in paths:
        for sentence in load(format, [path], limit=limit):
            written = written_form(sentence.tokens, sentence.language)
            if written is not None:
                texts.setdefault(sentence.language, []).append(written.text)
    indexed = set(texts)
    for language in outside:
        texts[language] = gettext_sentences(locale_dir, language, limit)
    routers = {
        "with the wide identifier": ev.router(index=routing_index),
        "the vote alone": ev.router(index=routing_index, wide=False),
    }
    rows: dict[str, Any] = {}
    for language, sentences in texts.items():
        row: dict[str, Any] = {"sentences": len(sentences), "indexed": language in indexed}
        for name, router in routers.items():
            row[name] = _scores(language, [r.language for r in router.route(sentences)])
        rows[language] = row
    summary: dict[str, Any] = {}
    for name in routers:
        for group, members in (("six", indexed), ("outside", set(outside))):
            chosen = [rows[lang] for lang in rows if lang in members and rows[lang]["sentences"]]
            summary.setdefault(name, {})[group] = {
                key: round(sum(r[name][key] for r in chosen) / max(1, len(chosen)), 4)
                for key in ("right", "wrong", "null")
            }
    return {"by_language": rows, "mean": summary}
