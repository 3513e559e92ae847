"""In-context extraction with a small decoder LM: prompts, preference scores, predictions.

RUIE (arXiv 2409.11673) scores a candidate demonstration by the LM's average token
log-likelihood of the gold output given (demonstration + input), and judges a retriever
by the F1 of k-shot extraction. Two output formats are defined here:

- ``typing``: one mention of the input is marked with brackets and the output is its
  type in words (``politician``); the format entivec trains and evaluates with;
- ``entities``: the output lists every mention with its type
  (``Tony Blair (politician); Labour (political party)``).

Which one to use is measured, not assumed (``entivec eval demo-formats``): a retriever
can only learn from scores that move with the demonstration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from entivec.errors import InvalidArgumentError
from entivec.loaders.crossner import NOT_A_QUERY, label_text, type_name
from entivec.records import Sentence

INSTRUCTION = {
    "typing": "Give the type of the entity in brackets.",
    "entities": "List the named entities of the sentence with their types.",
}


@dataclass(frozen=True, slots=True)
class Example:
    """One input of in-context extraction: a sentence and, for ``typing``, one mention.

    Attributes:
        id: ``sentence id`` for ``entities``; ``sentence id@token start-end`` for ``typing``.
        sentence: The annotated sentence.
        mention: Index into ``sentence.spans`` of the marked mention (``typing`` only).
    """

    id: str
    sentence: Sentence
    mention: int | None = None

    @property
    def type(self) -> str:
        """The gold label of the marked mention."""
        if self.mention is None:
            raise InvalidArgumentError(f"{self.id} marks no mention")
        return self.sentence.spans[self.mention].type

    def offsets(self) -> tuple[int, int]:
        """Character offsets of the marked mention in the sentence's text."""
        if self.mention is None:
            raise InvalidArgumentError(f"{self.id} marks no mention")
        return self.sentence.char_offsets(self.sentence.spans[self.mention])

    def marked_text(self) -> str:
        """The sentence with the marked mention in brackets (the plain text otherwise)."""
        if self.mention is None:
            return self.sentence.text
        return mark(self.sentence.text, *self.offsets())

    def demonstration_text(self, form: str = "mention") -> str:
        """What the demonstration retriever embeds for this example as a demonstration."""
        return demonstration_text(self.sentence.text, *self.offsets(), self.type, form=form)

    def retriever_query(self, form: str = "mention") -> str:
        """What the demonstration retriever embeds for this example as an input."""
        return retriever_text(self.sentence.text, *self.offsets(), form=form)


def mark(text: str, start: int, end: int, opening: str = "[", closing: str = "]") -> str:
    """``text`` with ``text[start:end]`` between ``opening`` and ``closing``."""
    return f"{text[:start]}{opening}{text[start:end]}{closing}{text[end:]}"


# How the demonstration retriever reads a mention (a student's recipe records its form):
# "sentence", the sentence with the mention in brackets, the form of the first students;
# "mention", the mention's own words. Whether a demonstration helps the LM is mostly
# whether it has the input's type, and mean pooling over a whole sentence drowns the
# mention: untrained all-MiniLM-L6-v2 finds a first demonstration of the input's type for
# .36 of the held-back inputs from sentences and .62 from mentions (docs/ruie.md).
RETRIEVER_TEXT_FORMS = ("sentence", "mention")


def retriever_text(
    text: str, start: int, end: int, label: str | None = None, *, form: str = "mention"
) -> str:
    """What the ``demo`` vector embeds for the mention ``text[start:end]``: an input, or a
    demonstration when ``label`` (its type) is given.

    Raises:
        InvalidArgumentError: ``form`` is not one of :data:`RETRIEVER_TEXT_FORMS`.
    """
    if form == "sentence":
        body = mark(text, start, end)
    elif form == "mention":
        body = text[start:end]
    else:
        raise InvalidArgumentError(
            f"unknown retriever text form {form!r}; expected one of: "
            f"{', '.join(RETRIEVER_TEXT_FORMS)}"
        )
    # ``misc`` mentions are stored too (never returned): they need a text, not a query
    return body if label is None else f"{body} Type: {label_text(label)}"


def demonstration_text(
    text: str, start: int, end: int, label: str, *, form: str = "mention"
) -> str:
    """A demonstration as the ``demo`` vector embeds it: its mention and its answer.

    The answer is part of what is embedded because it is what the LM copies from a
    demonstration: the retriever can learn which answers help which inputs.
    """
    return retriever_text(text, start, end, label, form=form)


def retriever_query(marked: str, *, form: str = "mention") -> str:
    """What the ``demo`` vector embeds for an input written with its mention in brackets
    (``Blair led [Labour] to victory.``).

    Raises:
        InvalidArgumentError: ``marked`` lacks exactly one bracketed mention.
    """
    opening, closing = marked_mention(marked)
    text = marked[:opening] + marked[opening + 1 : closing - 1] + marked[closing:]
    return retriever_text(text, opening, closing - 2, form=form)


def marked_mention(text: str) -> tuple[int, int]:
    """Offsets of the one bracketed mention of an input (``... [Tony Blair] ...``), brackets
    included.

    Raises:
        InvalidArgumentError: ``text`` has no bracketed mention, or more than one.
    """
    opening, closing = text.find("["), text.find("]")
    if opening < 0 or closing <= opening + 1 or text.count("[") != 1 or text.count("]") != 1:
        raise InvalidArgumentError(
            f"expected a sentence with exactly one mention in brackets, like "
            f"'Blair led [Labour] to victory.', got {text!r}"
        )
    return opening, closing + 1


def typing_examples(sentences: Iterable[Sentence]) -> list[Example]:
    """One ``typing`` example per annotated mention (the catch-all ``misc`` left out)."""
    return [
        Example(f"{s.id}@{span.start}-{span.end}", s, i)
        for s in sentences
        for i, span in enumerate(s.spans)
        if span.type not in NOT_A_QUERY
    ]


def sentence_examples(sentences: Iterable[Sentence]) -> list[Example]:
    """One ``entities`` example per sentence with at least one mention."""
    return [Example(s.id, s) for s in sentences if s.spans]


class OutputFormat(Protocol):
    """How an example becomes prompt text and gold output, and how outputs are read."""

    name: str

    def question(self, example: Example) -> str: ...

    def answer(self, example: Example) -> str: ...


class TypingFormat:
    """Type one bracketed mention; the answer is the type's name in words."""

    name = "typing"

    def question(self, example: Example) -> str:
        return f"Sentence: {example.marked_text()}\nType:"

    def answer(self, example: Example) -> str:
        return f" {type_name(example.type)}\n"


class EntitiesFormat:
    """List every mention of the sentence with its type, in sentence order."""

    name = "entities"

    def question(self, example: Example) -> str:
        return f"Sentence: {example.sentence.text}\nEntities:"

    def answer(self, example: Example) -> str:
        s = example.sentence
        parts = [
            f"{s.text[slice(*s.char_offsets(span))]} ({type_name(span.type)})"
            for span in s.spans
            if span.type not in NOT_A_QUERY
        ]
        return f" {'; '.join(parts) or 'none'}\n"


FORMATS: dict[str, OutputFormat] = {f.name: f for f in (TypingFormat(), EntitiesFormat())}


def output_format(name: str) -> OutputFormat:
    """The registered format ``name``; an unknown name lists the valid ones."""
    if name not in FORMATS:
        raise InvalidArgumentError(
            f"unknown output format {name!r}; expected one of: {', '.join(FORMATS)}"
        )
    return FORMATS[name]


def prompt(fmt: OutputFormat, demonstrations: Sequence[Example], example: Example) -> str:
    """The instruction, the demonstrations with their answers, then the input's question."""
    shots = "".join(f"{fmt.question(d)}{fmt.answer(d)}\n" for d in demonstrations)
    return f"{INSTRUCTION[fmt.name]}\n\n{shots}{fmt.question(example)}"


def read_type(generated: str, labels: Sequence[str]) -> str | None:
    """The label whose name the generated answer starts with (its first line), if any.

    Longer names are tried first, so ``political party`` is not read as ``party``.
    """
    line = generated.strip().split("\n", 1)[0].strip().lower()
    for label in sorted(labels, key=lambda label: -len(type_name(label))):
        if line.startswith(type_name(label).lower()):
            return label
    return None
