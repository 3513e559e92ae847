"""What the demo retriever's models read and learn from: the text forms of an input and
a candidate demonstration (the student's, and the reward models' with or without RUIE's
keyword tags), and the inputs with their candidates, scored by the LM or labelled for the
student.
"""

from __future__ import annotations

from dataclasses import dataclass

from entivec.errors import InvalidArgumentError
from entivec.loaders.crossner import type_name
from entivec.query.prompts import RETRIEVER_TEXT_FORMS, Example, mark

KEYWORD_OPEN, KEYWORD_CLOSE = "<kw>", "</kw>"


def query_text(example: Example, form: str) -> str:
    """What the student embeds for an input (:func:`entivec.query.prompts.retriever_text`)."""
    return example.retriever_query(form)


def keyword_text(example: Example, *, answer: bool, form: str = "mention") -> str:
    """The example (its sentence, or its mention alone, by ``form``) with its mention and,
    for a demonstration, its answer in keyword tags."""
    start, end = example.offsets()
    text = mark(example.sentence.text, start, end, f"{KEYWORD_OPEN} ", f" {KEYWORD_CLOSE}")
    if form == "mention":
        text = text[start : end + len(KEYWORD_OPEN) + len(KEYWORD_CLOSE) + 2]
    elif form != "sentence":
        raise InvalidArgumentError(
            f"unknown text form {form!r}; expected one of: {', '.join(RETRIEVER_TEXT_FORMS)}"
        )
    if answer:
        text += f" Type: {KEYWORD_OPEN} {type_name(example.type)} {KEYWORD_CLOSE}"
    return text


def reward_pair(
    example: Example, candidate: Example, *, keywords: bool, form: str = "mention"
) -> tuple[str, str]:
    """The (input, demonstration) texts the reward model reads, in ``form``."""
    if keywords:
        return (
            keyword_text(example, answer=False, form=form),
            keyword_text(candidate, answer=True, form=form),
        )
    return query_text(example, form), candidate.demonstration_text(form)


@dataclass(frozen=True)
class ScoredInput:
    """An LM-scored input with its candidates (pool examples) and their scores."""

    example: Example
    candidates: tuple[Example, ...]
    scores: tuple[float, ...]


@dataclass(frozen=True)
class Labelled:
    """An input with its candidates and their labels: the LM's scores where it scored
    them, the reward model's logits otherwise."""

    example: Example
    candidates: tuple[Example, ...]
    rewards: tuple[float, ...]
