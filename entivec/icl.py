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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from entivec.entity_types import NOT_A_QUERY, label_text, type_name
from entivec.errors import InvalidArgumentError
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
# .36 of the held-back inputs from sentences and .62 from mentions (README).
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


class LanguageModel:
    """A prepared causal LM that scores answers and completes prompts (PyTorch, CPU).

    Args:
        model_folder: A prepared Hugging Face folder (``entivec models prepare``).
        batch_size: Sequences per forward pass; sequences are sorted by length first.
            Twenty (one input's candidates) scored 1.8 times as many pairs a second as
            eight on two cores.
    """

    def __init__(self, model_folder: Path, *, batch_size: int = 20) -> None:
        from entivec.value_vectors import load_decoder

        self.tokenizer, model = load_decoder(model_folder)
        self.model = model.eval()
        self.batch_size = batch_size
        self.pad_id = int(self.tokenizer.pad_token_id or 0)

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def answer_log_likelihood(
        self, prompts: Sequence[str], answers: Sequence[str], *, show_progress: bool | None = None
    ) -> np.ndarray:
        """Average log-probability per token of each answer given its prompt.

        Prompt and answer are tokenised apart and joined, so the answer's tokens are the
        same whatever precedes them.
        """
        import torch

        if len(prompts) != len(answers):
            raise InvalidArgumentError(f"{len(prompts)} prompts but {len(answers)} answers")
        pairs = [(self._ids(p), self._ids(a)) for p, a in zip(prompts, answers, strict=True)]
        if any(not answer for _, answer in pairs):
            raise InvalidArgumentError("every answer needs at least one token")
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out = np.zeros(len(pairs), dtype=np.float64)
        starts = range(0, len(order), self.batch_size)
        for start in tqdm(starts, desc="LM scores", disable=show_progress is False):
            rows = order[start : start + self.batch_size]
            width = max(len(pairs[i][0]) + len(pairs[i][1]) for i in rows)
            ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                sequence = pairs[i][0] + pairs[i][1]
                ids[r, : len(sequence)] = torch.tensor(sequence)
                mask[r, : len(sequence)] = 1
            with torch.inference_mode():
                hidden = self.model.get_decoder()(input_ids=ids, attention_mask=mask)
                hidden = hidden.last_hidden_state
                for r, i in enumerate(rows):
                    prompt_ids, answer_ids = pairs[i]
                    first = len(prompt_ids)
                    # the token at position t is predicted by the logits at t - 1; the
                    # vocabulary projection is applied to those positions only, since over
                    # every position it costs a fifth of the forward pass
                    states = hidden[r, first - 1 : first - 1 + len(answer_ids)]
                    logits = self.model.get_output_embeddings()(states).float()
                    log_probs = torch.log_softmax(logits, dim=-1)
                    chosen = log_probs.gather(1, torch.tensor(answer_ids).unsqueeze(1))
                    out[i] = float(chosen.mean())
        return out

    def complete(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int = 8,
        until: Callable[[str], bool] | None = None,
        show_progress: bool | None = None,
    ) -> list[str]:
        """Greedy continuations of ``prompts``, cut at the first line break; with ``until``,
        a row also stops as soon as ``until`` holds for its continuation so far."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        tokenizer = self.tokenizer

        class Until(StoppingCriteria):
            """Stops each row once ``done`` holds for what it has written past ``width``."""

            def __init__(self, width: int, done: Callable[[str], bool]) -> None:
                self.width = width
                self.done = done

            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                texts = tokenizer.batch_decode(input_ids[:, self.width :], skip_special_tokens=True)
                return torch.tensor([self.done(text) for text in texts], dtype=torch.bool)

        encoded = [self._ids(p) for p in prompts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        out = [""] * len(encoded)
        newline = set(self._ids("\n"))
        starts = range(0, len(order), self.batch_size)
        for start in tqdm(starts, desc="in-context answers", disable=show_progress is False):
            rows = order[start : start + self.batch_size]
            width = max(len(encoded[i]) for i in rows)
            # left padding, so every row's next token comes at the same position
            ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):
                ids[r, width - len(encoded[i]) :] = torch.tensor(encoded[i])
                mask[r, width - len(encoded[i]) :] = 1
            with torch.inference_mode():
                generated = self.model.generate(
                    input_ids=ids,
                    attention_mask=mask,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=self.pad_id,
                    eos_token_id=sorted(newline),
                    stopping_criteria=StoppingCriteriaList([Until(width, until)])
                    if until
                    else None,
                )
            for r, i in enumerate(rows):
                text = self.tokenizer.decode(generated[r, width:], skip_special_tokens=True)
                out[i] = text.split("\n", 1)[0]
        return out


def micro_f1(gold: Sequence[str], predicted: Sequence[str | None]) -> float:
    """Micro F1 of mention typing: an unreadable answer is a miss, a wrong type is also
    a false positive (so F1 equals accuracy when every answer is readable)."""
    if len(gold) != len(predicted):
        raise InvalidArgumentError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        return 0.0
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    answered = sum(p is not None for p in predicted)
    precision = correct / answered if answered else 0.0
    recall = correct / len(gold)
    return 0.0 if correct == 0 else 2 * precision * recall / (precision + recall)


def spread(scores: Any) -> dict[str, float]:
    """How much LM scores move with the demonstration, per input, averaged over inputs.

    ``scores`` is ``(inputs, candidates)``: the standard deviation across candidates
    and the gap between the best and the median candidate.
    """
    matrix = np.asarray(scores, dtype=np.float64)
    return {
        "std": float(matrix.std(axis=1).mean()),
        "best_minus_median": float((matrix.max(axis=1) - np.median(matrix, axis=1)).mean()),
    }
