"""Raw documents into sentences, with their character offsets.

``sentencex`` (Wikimedia's segmenter, rules for some 240 languages) was chosen over
``pysbd`` by ``entivec eval segmentation``: the same boundary recall within a point on
Tatoeba's six languages and CrossNER's English, a hundred times faster, and maintained
(docs/annotate.md has the table). A document's language is often unknown before its
sentences are routed; English rules then apply, which measured the same as each
language's own on those documents.

sentencex ends a sentence after any full stop its rules do not know as an abbreviation,
and on written WikiANN lines it cut one in 35 German and one in 80 Russian lines, often
inside a name: "М. || А. || Шолохова", "Paul VI. || ernannte", "am 1. || FC Köln". Four
rules put such pieces back together (:func:`continues`); ``entivec eval segmentation``
measures them beside sentencex alone. The fourth is the Pragmatic Segmenter's German
rule (pysbd has it too): a number of one or two digits followed by a full stop is an
ordinal, not the end of a sentence, in the languages that write ordinals so (German,
Polish, the Nordic, Baltic and West and South Slavic languages, Hungarian, Turkish).
Its price is a sentence that does end in such a number ("Muiriel ist jetzt 20. || Das
Passwort"): it joins the next one, and two sentences in one point keep every mention.
The document's language decides, as given or as fastText reads the document (its first
2,000 characters).

A sentence longer than :data:`MAX_SENTENCE_CHARS` (a line of words without a full stop,
a log dump) is stored as consecutive windows of at most that many characters, cut at
whitespace: the sentence vectors read at most 512 sub-tokens, about 1,500 characters of
Latin script, so the rest of a longer sentence would be stored but never searchable.
Windows keep every word findable; the loaders warn with the file and line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import regex

log = logging.getLogger(__name__)
_SAY_WINDOWS: ContextVar[bool] = ContextVar("say_windows", default=True)

DEFAULT_RULES = "en"
# about 250-400 sub-tokens of the sentence encoders in Latin and Cyrillic scripts, well
# inside their 512; real sentences rarely pass 600 characters
MAX_SENTENCE_CHARS = 1000
# a piece that starts so cannot start a sentence: a mark that continues the one before
# ("Evang. -Luth.", "z. B., wie"; a dash and a space open a line of dialogue)
_CONTINUATION = regex.compile(r"[,;:]|-\S")
# a lowercase start continues only after a short word, a number or a Roman numeral
# ("Paul VI. ernannte", "der 20. und"); after a long word it is a new sentence written
# in lowercase, or a fragment ("... gewählt. bei Fußballspielen")
_LOWERCASE = regex.compile(r"\p{Ll}")
_SHORT_END = regex.compile(r"(?:^|\W)(?:\w{1,4}|\d+|[IVXLCDM]+)\.$")
# an initial ("М.", "J. R. R.") closing the piece before
_INITIAL = regex.compile(r"(?:^|[\s(«„“\"'])\p{Lu}\.$")
# an ordinal as written in the languages below ("am 1.", "die 2.", "Russell, 5.")
_ORDINAL = regex.compile(r"(?:^|[\s(])\d{1,2}\.$")
# languages that write an ordinal as a number with a full stop (the ordinal indicator
# of their orthographies): Basque, Bosnian, Croatian, Czech, Danish, Estonian, Faroese,
# Finnish, German, Hungarian, Icelandic, Latvian, Norwegian, Polish, Serbian, Slovak,
# Slovene, Turkish
ORDINAL_DOT_LANGUAGES = frozenset(
    {"bs", "cs", "da", "de", "et", "eu", "fi", "fo", "hr", "hu", "is"}
    | {"lv", "nb", "nn", "no", "pl", "sh", "sk", "sl", "sr", "tr"}
)


def sentence_spans(text: str, language: str | None = None) -> list[tuple[int, int]]:
    """Character offsets ``[start, end)`` of each sentence of ``text``, spaces trimmed.

    Args:
        text: A document.
        language: Its language code, when known; English rules otherwise.
    """
    return _sentences(text, language)


def bounded_spans(
    text: str, language: str | None, where: Callable[[int], str]
) -> list[tuple[int, int]]:
    """:func:`sentence_spans`, a sentence longer than :data:`MAX_SENTENCE_CHARS` in
    windows (:func:`windows`) with a warning naming ``where(its start)``."""
    spans = []
    for start, end in _sentences(text, language):
        parts = windows(text, start, end)
        if len(parts) > 1:
            warn_windows(where(start), end - start, len(parts))
        spans += parts
    return spans


@contextmanager
def windows_unsaid() -> Iterator[None]:
    """No window warning inside: ingestion reads its files twice (a survey, then the
    stream), and the survey has said it."""
    token = _SAY_WINDOWS.set(False)
    try:
        yield
    finally:
        _SAY_WINDOWS.reset(token)


def warn_windows(where: str, length: int, count: int) -> None:
    """Say that a sentence of ``length`` characters at ``where`` became ``count`` windows."""
    if not _SAY_WINDOWS.get():
        return
    log.warning(
        "%s: a sentence of %s characters is stored as %d windows of at most %s "
        "(the sentence vectors read no more)",
        where,
        f"{length:,}",
        count,
        f"{MAX_SENTENCE_CHARS:,}",
    )


def windows(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` as consecutive pieces of at most :data:`MAX_SENTENCE_CHARS`
    characters, each cut at the last space that fits. A word longer than that is never
    cut: it stays whole for the loaders to refuse (a blob, or a file in another format)."""
    pieces = []
    while end - start > MAX_SENTENCE_CHARS:
        limit = start + MAX_SENTENCE_CHARS
        cut = limit
        while cut > start and not text[cut].isspace():
            cut -= 1
        if cut <= start:
            found = regex.compile(r"\s").search(text, limit, end)
            cut = found.start() if found else end
            if cut >= end:
                break
        last = cut
        while last > start and text[last - 1].isspace():
            last -= 1
        pieces.append((start, last))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def _sentences(text: str, language: str | None) -> list[tuple[int, int]]:
    import sentencex

    spans: list[tuple[int, int]] = []
    cursor = 0
    ordinals = _OrdinalLanguage(text, language)
    for piece in sentencex.segment(language or DEFAULT_RULES, text):
        stripped = piece.strip()
        if not stripped:
            continue
        start = text.find(stripped, cursor)
        if start < 0:  # the segmenter returns pieces of the text; never seen otherwise
            start = cursor
        end = start + len(stripped)
        # the rules read the end of the sentence before: a tail keeps a long run of
        # merges linear
        before = text[max(spans[-1][0], cursor - 64) : cursor] if spans else ""
        if spans and (continues(before, stripped) or ordinals.continues(before)):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        cursor = end
    return spans


def continues(before: str, piece: str) -> bool:
    """Whether ``piece`` goes on the sentence ``before`` rather than starting one: it
    starts with a continuing mark, or in lowercase after a short word, or ``before``
    ends with an initial. A merge costs less than a cut: two sentences in one point keep
    every mention whole, a cut inside a name loses it."""
    if _CONTINUATION.match(piece) or _INITIAL.search(before):
        return True
    return bool(_LOWERCASE.match(piece) and _SHORT_END.search(before))


class _OrdinalLanguage:
    """Whether a document writes ordinals with a full stop, read once and only when a
    piece ends in one: its given language, else fastText's reading of the text."""

    def __init__(self, text: str, language: str | None) -> None:
        self._text = text
        self._writes: bool | None = (
            language.split("-")[0] in ORDINAL_DOT_LANGUAGES if language else None
        )

    def continues(self, before: str) -> bool:
        """Whether ``before`` ends in an ordinal of this document's language."""
        if not _ORDINAL.search(before.rstrip()):
            return False
        if self._writes is None:
            from entivec.annotation.langid import wide_identifier

            read = wide_identifier().top(self._text)
            self._writes = read is not None and read[0] in ORDINAL_DOT_LANGUAGES
        return self._writes
