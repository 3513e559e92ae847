"""Token-classification NER on the converted multilingual-e5-small, one LoRA adapter per
language (PEFT), and what its two engines share.

Adapters are loaded once (``load_adapter``) and switched per group of texts
(``set_adapter``), as PEFT keeps them separate: loading reads and verifies files,
switching only changes which weights the forward pass uses. :class:`NerModel` runs
PyTorch with PEFT; :class:`entivec.ner.onnx_engine.OnnxNerModel` runs the exported graph in
onnxruntime. Both tokenise with :class:`WordTokenizer` and decode with
:func:`tags_of_words`, so they differ only in the forward pass.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import regex

from entivec.errors import AdapterError, ModelNotPreparedError
from entivec.models import MANIFEST, model_dir
from entivec.ner.adapters import AdapterRegistry
from entivec.records import Span

log = logging.getLogger(__name__)

BASE_MODEL = "multilingual-e5-small"
WIKIANN_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
_PUNCTUATION = regex.compile(r"\p{P}+")
# quotation marks open and close alike in some language or other (» opens in Danish,
# “ closes in German); „ and ‚ are Unicode's opening punctuation but quotes all the same
_QUOTES = regex.compile(r"[\p{Pi}\p{Pf}\"'„‚]+")
_OPENING = regex.compile(r"\p{Ps}+")
_CLOSING = regex.compile(r"\p{Pe}+")
MAX_TOKENS = 256
# sub-tokens of context that consecutive windows of a long text share: a word near a
# window's edge is tagged by the window where it has the most context on both sides
WINDOW_OVERLAP = 32


def tags_from_spans(length: int, spans: Sequence[Span]) -> list[str]:
    """IOB2 tags of a sentence of ``length`` tokens."""
    tags = ["O"] * length
    for span in spans:
        tags[span.start] = f"B-{span.type}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.type}"
    return tags


def spans_from_tags(tags: Sequence[str]) -> list[Span]:
    """Spans of IOB2 ``tags`` (an I- without its B- starts a span, as seqeval reads it)."""
    spans: list[Span] = []
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        continues = prefix == "I" and label == kind and start >= 0
        if start >= 0 and not continues:
            spans.append(Span(start, i, kind))
            start, kind = -1, ""
        if prefix in ("B", "I") and not continues:
            start, kind = i, label
    return spans


def mention_spans(tags: Sequence[str], tokens: Sequence[str]) -> list[Span]:
    """The mentions of a tagged sentence: :func:`spans_from_tags`, each trimmed by
    :func:`mention_edges`; a span of punctuation alone is no mention."""
    found = []
    for span in spans_from_tags(tags):
        start, end = mention_edges(tokens, span.start, span.end)
        if start < end:
            found.append(Span(start, end, span.type))
    return found


def _mark(token: str) -> str:
    """``open``, ``close`` or ``quote`` for a bracket or quotation mark, ``other`` for any
    other punctuation, ``""`` for a word."""
    if not _PUNCTUATION.fullmatch(token):
        return ""
    if _QUOTES.fullmatch(token):
        return "quote"
    if _OPENING.fullmatch(token):
        return "open"
    return "close" if _CLOSING.fullmatch(token) else "other"


def mention_edges(tokens: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """``tokens[start:end]`` without the punctuation at its edges that is not part of
    the name: a mention's text is its name, never with a quote, bracket or full stop
    around it ("«Российского телевидения»" names Российского телевидения; the adapters
    learned from WikiANN, whose tokens glue quotes to names, so on written text they can
    tag a lone « or » with the name). A bracket or quote the name holds stays ("Kampala
    (Uganda)", "Пуату — Шаранта")."""

    def paired(at: int, wanted: tuple[str, ...], within: range) -> bool:
        return any(_mark(tokens[i]) in wanted for i in within if i != at)

    def balanced(within: range, ends: tuple[str, str]) -> bool:
        # brackets inside close what they open; no quote inside repeats an outer one
        # («Аэро» и «Летов» is two names, not one in quotes)
        depth = 0
        for i in within:
            mark = _mark(tokens[i])
            depth += (mark == "open") - (mark == "close")
            if depth < 0 or (mark == "quote" and tokens[i] in ends):
                return False
        return depth == 0

    while start < end:
        first, last = _mark(tokens[start]), _mark(tokens[end - 1])
        if (
            end - start >= 2
            and (first, last) in (("open", "close"), ("quote", "quote"))
            and balanced(range(start + 1, end - 1), (tokens[start], tokens[end - 1]))
        ):
            start, end = start + 1, end - 1  # the pair encloses the name
        elif first and not (
            (first == "open" and paired(start, ("close",), range(start, end)))
            or (first == "quote" and paired(start, ("quote",), range(start, end)))
        ):
            start += 1
        elif last and not (
            (last == "close" and paired(end - 1, ("open",), range(start, end)))
            or (last == "quote" and paired(end - 1, ("quote",), range(start, end)))
        ):
            end -= 1
        else:
            break
    return start, end


def base_model_identity() -> dict[str, Any]:
    """Name and weights checksum of the prepared base model (adapters record it)."""
    import json

    folder = model_dir(BASE_MODEL)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise ModelNotPreparedError(
            f"{BASE_MODEL} is not prepared in {folder}; run `entivec models prepare`"
        )
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    return {"name": BASE_MODEL, "model.safetensors": files["model.safetensors"]}


@dataclass(frozen=True)
class WordBatch:
    """Sub-tokens of a batch of word lists, padded; ``word_ids[b][t]`` is the word that
    sub-token ``t`` of sentence ``b`` belongs to (``None`` for special tokens and padding)."""

    input_ids: npt.NDArray[np.int64]
    attention_mask: npt.NDArray[np.int64]
    word_ids: list[list[int | None]]


class WordTokenizer:
    """The base model's tokenizer (``tokenizers``, no transformers needed) on word lists,
    as ``AutoTokenizer(..., is_split_into_words=True)`` tokenises them for training."""

    def __init__(self, path: Path, max_tokens: int = MAX_TOKENS) -> None:
        from tokenizers import Tokenizer

        self.max_tokens = max_tokens
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.enable_truncation(max_tokens)
        pad_id = self._tokenizer.token_to_id("<pad>")
        self._tokenizer.enable_padding(pad_id=pad_id, pad_token="<pad>")
        self._counter = Tokenizer.from_file(str(path))
        self._counter.no_truncation()
        self._counter.no_padding()
        # <s> and </s> around every sequence
        self.special_tokens = self._counter.post_processor.num_special_tokens_to_add(False)

    def word_lengths(self, sentences: Sequence[Sequence[str]]) -> list[list[int]]:
        """Sub-tokens per word of each sentence, nothing cut off."""
        encodings = self._counter.encode_batch(
            [list(words) for words in sentences], is_pretokenized=True, add_special_tokens=False
        )
        lengths = []
        for words, encoding in zip(sentences, encodings, strict=True):
            counts = [0] * len(words)
            for word in encoding.word_ids:
                if word is not None:
                    counts[word] += 1
            lengths.append(counts)
        return lengths

    def __call__(self, sentences: Sequence[Sequence[str]]) -> WordBatch:
        encodings = self._tokenizer.encode_batch(
            [list(words) for words in sentences], is_pretokenized=True
        )
        return WordBatch(
            np.array([e.ids for e in encodings], dtype=np.int64),
            np.array([e.attention_mask for e in encodings], dtype=np.int64),
            [list(e.word_ids) for e in encodings],
        )


def word_tokenizer() -> WordTokenizer:
    """The prepared base model's tokenizer."""
    base_model_identity()
    return WordTokenizer(model_dir(BASE_MODEL) / "tokenizer.json")


@dataclass(frozen=True)
class Entity:
    """An extracted mention: character offsets into the text, and its words."""

    start: int
    end: int
    type: str
    text: str


Forward = Callable[[WordBatch], "npt.NDArray[np.float32]"]


def token_logits(
    forward: Forward,
    tokenizer: WordTokenizer,
    sentences: Sequence[Sequence[str]],
    batch_size: int,
) -> list[tuple[npt.NDArray[np.float32], list[int | None]]]:
    """Per sentence, the logits of its sub-tokens and their word ids (padding removed).

    Sentences run sorted by length, so each batch pads little; results come back in
    input order.
    """
    out: list[tuple[npt.NDArray[np.float32], list[int | None]]] = [
        (np.empty((0, 0), np.float32), []) for _ in sentences
    ]
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = tokenizer([sentences[i] for i in rows])
        logits = forward(batch)
        for b, row in enumerate(rows):
            length = int(batch.attention_mask[b].sum())
            out[row] = (logits[b, :length], batch.word_ids[b][:length])
    return out


def word_windows(
    lengths: Sequence[int], budget: int, overlap: int = WINDOW_OVERLAP
) -> list[tuple[int, int]]:
    """Word ranges ``[start, end)`` of at most ``budget`` sub-tokens each (a single longer
    word is a window of its own), consecutive ones sharing about ``overlap`` sub-tokens."""
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end, used = start, 0
        while end < len(lengths) and (end == start or used + lengths[end] <= budget):
            used += lengths[end]
            end += 1
        windows.append((start, end))
        if end >= len(lengths):
            return windows
        back, shared = end, 0
        while back > start + 1 and shared + lengths[back - 1] <= overlap:
            back -= 1
            shared += lengths[back]
        start = back


def stitch(windows: Sequence[tuple[int, int]], tags: Sequence[Sequence[str]]) -> list[str]:
    """One tag per word from overlapping windows: each word's from the window where it
    sits farthest from an edge."""
    words = windows[-1][1]
    best: list[tuple[int, str]] = [(-1, "O")] * words
    for (start, end), window_tags in zip(windows, tags, strict=True):
        for i in range(start, end):
            margin = min(i - start, end - 1 - i)
            if margin > best[i][0]:
                best[i] = (margin, window_tags[i - start])
    return [tag for _, tag in best]


def tags_of_words(
    logits: npt.NDArray[np.float32],
    word_ids: Sequence[int | None],
    words: int,
    labels: Sequence[str],
) -> list[str]:
    """IOB2 tags of a sentence's words: each word takes its first sub-token's label, a
    word cut off by truncation stays O."""
    best = np.argmax(logits, axis=-1)
    tags = ["O"] * words
    previous = None
    for t, word in enumerate(word_ids):
        if word is not None and word != previous:
            tags[word] = labels[int(best[t])]
        previous = word
    return tags


class NerEngine(Protocol):
    """What ``extract`` needs from an NER model: adapters by name, tags per word."""

    registry: AdapterRegistry
    loaded: list[str]
    active: str | None

    def load_adapter(self, name: str) -> None: ...

    def set_adapter(self, name: str) -> None: ...

    def predict(self, name: str, sentences: Sequence[Sequence[str]]) -> list[list[str]]: ...


class AdapterTagger(ABC):
    """What both engines share: tokenise, run the forward pass of the active adapter,
    decode. An engine implements loading, activation and the forward pass."""

    labels: list[str]
    tokenizer: WordTokenizer
    batch_size: int

    @abstractmethod
    def set_adapter(self, name: str) -> None:
        """Make adapter ``name`` the one the next forward passes use."""

    @abstractmethod
    def _forward(self, batch: WordBatch) -> npt.NDArray[np.float32]:
        """Logits ``(batch, tokens, labels)`` of ``batch`` with the active adapter."""

    def logits(
        self, name: str, sentences: Sequence[Sequence[str]]
    ) -> list[npt.NDArray[np.float32]]:
        """Sub-token logits of each sentence with adapter ``name``."""
        self.set_adapter(name)
        rows = token_logits(self._forward, self.tokenizer, sentences, self.batch_size)
        return [logits for logits, _ in rows]

    def predict(self, name: str, sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        """IOB2 tags per word of each sentence, with adapter ``name``.

        A sentence longer than the model's window (:data:`MAX_TOKENS` sub-tokens) is cut
        into overlapping windows (:func:`word_windows`), each tagged, the tags stitched
        back: every word is tagged, however long the text.
        """
        self.set_adapter(name)
        budget = self.tokenizer.max_tokens - self.tokenizer.special_tokens
        pieces: list[list[str]] = []
        layout: list[list[tuple[int, int]]] = []
        for words, lengths in zip(sentences, self.tokenizer.word_lengths(sentences), strict=True):
            windows = word_windows(lengths, budget) if sum(lengths) > budget else [(0, len(words))]
            layout.append(windows)
            pieces += [list(words[start:end]) for start, end in windows]
        rows = token_logits(self._forward, self.tokenizer, pieces, self.batch_size)
        tagged = [
            tags_of_words(logits, word_ids, len(words), self.labels)
            for (logits, word_ids), words in zip(rows, pieces, strict=True)
        ]
        out, at = [], 0
        for windows in layout:
            out.append(stitch(windows, tagged[at : at + len(windows)]))
            at += len(windows)
        return out


def check_base_model(registry: AdapterRegistry) -> None:
    """Raise :class:`AdapterError` unless ``registry`` was trained on the prepared base."""
    identity = base_model_identity()
    if registry.base_model != identity:
        raise AdapterError(
            f"the adapters in {registry.root} were trained on {registry.base_model}, "
            f"but the prepared base model is {identity}"
        )


def words_with_offsets(text: str) -> list[tuple[str, int, int]]:
    """The words and punctuation of written ``text`` with their character offsets, cut
    as the corpora the adapters learned from are (:mod:`entivec.annotation.words`)."""
    from entivec.annotation.words import words

    return words(text)


def entities_from_tags(text: str, tags: Sequence[str]) -> list[Entity]:
    """Character-offset entities of ``text`` from the IOB2 tags of its words."""
    words = words_with_offsets(text)
    found = []
    for span in mention_spans(tags, [w for w, _, _ in words]):
        start, end = words[span.start][1], words[span.end - 1][2]
        found.append(Entity(start, end, span.type, text[start:end]))
    return found
