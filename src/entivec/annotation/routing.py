"""Routing: the language of a text is the mode of its neighbours' ``language`` payloads.

As in RetrieveAll (arXiv 2505.19128): retrieve the top-k stored sentences, keep those at
least τ similar, and return the most common ``language`` among them with its share of
the votes as confidence. The winner needs :data:`DEFAULT_MIN_VOTES` agreeing neighbours
(at most k): a single neighbour above τ is a coincidence as often as a route (an
emoji-only text had one Russian neighbour above τ and was routed ``ru`` with confidence
1.0). A text without a single letter (emoji, digits, punctuation) is written in no
language: it is not routed at all (the ``lang`` vector put five Russian neighbours above
τ for "😀😀😀"). Sentences whose own language was routed (raw text ingested with the
``lang`` plugin) never vote. When nothing is kept, the winner has too few votes, the
vote is tied, or the collection is empty, the result is *unrouted* with the reason; an
optional :class:`~entivec.annotation.langid.LanguageIdentifier` fallback then answers, and
the result says so.

Languages outside the index: the neighbours can only vote for the languages the index
holds, so a French sentence gets Spanish or English neighbours. A wide identifier
(:class:`~entivec.annotation.langid.WideIdentifier`, 176 languages) is consulted beside
the vote: when it names a language the index does not hold with probability at least
:data:`OUTSIDE_PROBABILITY` (:data:`OUTSIDE_PROBABILITY_SHORT` for a text of fewer than
:data:`OUTSIDE_MIN_WORDS` words, on which it errs more than the neighbours do), that
language is the answer (outcome ``outside_index``, source ``fasttext``); when the
neighbours cannot decide, its answer stands if it is at least
:data:`UNROUTED_PROBABILITY` likely (the study and its thresholds: docs/annotate.md).
It never overrules a label the index holds for the very same text: WikiANN's Dutch
"DJ Jazzy Jeff & The Fresh Prince ." is Dutch to whoever labelled it, whatever a
character model reads in it.

Which vector: ``lang`` (see :mod:`entivec.plugins.lang`), made for language identity.
e5 puts translations together, so its neighbours are often in another language.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from entivec.annotation.langid import LanguageIdentifier, WideIdentifier
from entivec.errors import InvalidArgumentError
from entivec.registry import Encoder
from entivec.store import Hit, Keywords, Store

DEFAULT_K = 5
DEFAULT_MIN_VOTES = 2
# a language that routing itself gave (by the vote, the wide identifier or the document)
# never votes: a store of routed raw text would otherwise confirm its own guesses
NOT_LABELLED: Keywords = {"language_source": ["routed", "fasttext", "document"]}
PAPER_THRESHOLD = 0.7  # τc of the paper; used only when the vector brings no calibrated one
# When the wide identifier's answer stands (module docstring); chosen on half of the
# study's sentences, reported on the other half (docs/annotate.md)
OUTSIDE_PROBABILITY = 0.3
OUTSIDE_PROBABILITY_SHORT = 0.95
OUTSIDE_MIN_WORDS = 5
UNROUTED_PROBABILITY = 0.3

Outcome = Literal[
    "routed",
    "below_threshold",
    "too_few_votes",
    "tie",
    "empty_collection",
    "no_features",
    "no_letters",
    "outside_index",
]


@dataclass(frozen=True)
class Neighbour:
    """A stored sentence that voted (or was retrieved and dropped by the threshold)."""

    id: str
    language: str
    score: float
    text: str


@dataclass(frozen=True)
class Route:
    """Where a text goes.

    Attributes:
        text: The routed text.
        language: The chosen language, or ``None`` when unrouted and no fallback answered.
        confidence: Share of the kept neighbours that voted for ``language``; the wide
            identifier's probability when its answer stands; 0 for a fallback's answer or
            none.
        outcome: ``routed``; ``outside_index`` when the wide identifier named a language
            the index does not hold; else why the neighbours could not decide.
        source: ``neighbours``, the wide identifier's or the fallback's name, or ``None``.
        neighbours: The retrieved neighbours, nearest first; ``kept`` of them voted.
        kept: How many neighbours reached the threshold.
        index: The store the neighbours came from (the collection itself, or the routing
            index shipped with the models), as its description names it.
    """

    text: str
    language: str | None
    confidence: float
    outcome: Outcome
    source: str | None
    neighbours: tuple[Neighbour, ...] = field(default=())
    kept: int = 0
    index: str | None = None

    @property
    def routed(self) -> bool:
        """Whether the neighbours decided (a fallback answer is not a route)."""
        return self.outcome == "routed"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "text": self.text,
            "language": self.language,
            "confidence": round(self.confidence, 4),
            "outcome": self.outcome,
            "source": self.source,
            "kept": self.kept,
            "index": self.index,
            "neighbours": [
                {"id": n.id, "language": n.language, "score": round(n.score, 4), "text": n.text}
                for n in self.neighbours
            ],
        }


def vote(
    neighbours: Sequence[Neighbour], threshold: float, min_votes: int = 1
) -> tuple[Outcome, str | None, float, int]:
    """The mode of the ``language`` of neighbours at least ``threshold`` similar, if at
    least ``min_votes`` of them chose it.

    Returns:
        Outcome, winning language, its share of the kept votes, number kept.
    """
    kept = [n for n in neighbours if n.score >= threshold and n.language]
    if not kept:
        return "below_threshold", None, 0.0, 0
    counts = Counter(n.language for n in kept).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return "tie", None, 0.0, len(kept)
    language, votes = counts[0]
    if votes < min_votes:
        return "too_few_votes", None, 0.0, len(kept)
    return "routed", language, votes / len(kept), len(kept)


class Router:
    """Routes texts by the ``language`` payloads of their neighbours in a store.

    Args:
        store: The store to retrieve from.
        encoder: The loaded encoder of ``vector``.
        vector: The named vector to retrieve by.
        k: Neighbours retrieved per text.
        threshold: τ; by default the encoder's calibrated ``threshold`` if it has one,
            else the paper's 0.7.
        fallback: Answers when the neighbours cannot decide, restricted to the index's
            languages; the result names it.
        min_votes: Agreeing neighbours above τ a route needs (capped at ``k``).
        wide: Names languages the index does not hold (see the module docstring);
            ``None`` routes by the neighbours alone, as the paper does.
        languages: The languages the index holds (by default the store's ``language``
            payloads, else the encoder's).
    """

    def __init__(
        self,
        store: Store,
        encoder: Encoder,
        *,
        vector: str = "lang",
        k: int = DEFAULT_K,
        threshold: float | None = None,
        fallback: LanguageIdentifier | None = None,
        min_votes: int = DEFAULT_MIN_VOTES,
        wide: WideIdentifier | None = None,
        languages: Sequence[str] | None = None,
    ) -> None:
        if k < 1:
            raise InvalidArgumentError(f"k must be at least 1, got {k}")
        if min_votes < 1:
            raise InvalidArgumentError(f"min_votes must be at least 1, got {min_votes}")
        self.min_votes = min(min_votes, k)
        self.store = store
        self.encoder = encoder
        self.vector = vector
        self.k = k
        calibrated = getattr(encoder, "threshold", None)
        self.threshold = (
            threshold
            if threshold is not None
            else (float(calibrated) if calibrated is not None else PAPER_THRESHOLD)
        )
        self.fallback = fallback
        self.wide = wide
        self._languages = frozenset(languages) if languages is not None else None
        self._seen_points = False

    @property
    def languages(self) -> frozenset[str]:
        """The languages the index holds: what its labelled sentences can vote for."""
        if self._languages is None:
            known = self.store.distinct("language") or getattr(self.encoder, "languages", [])
            self._languages = frozenset(known)
        return self._languages

    @property
    def identity(self) -> str:
        """What this router's answers depend on: the vector's encoder version, the store
        it reads, and its settings."""
        return "|".join(
            str(part)
            for part in (
                self.vector,
                getattr(self.encoder, "version", ""),
                self.store.description,
                self.k,
                self.threshold,
                self.min_votes,
                self.fallback.name if self.fallback is not None else "",
                self.wide.name if self.wide is not None else "",
                ",".join(sorted(self.languages)) if self.wide is not None else "",
            )
        )

    def route(self, texts: Sequence[str]) -> list[Route]:
        """One :class:`Route` per text, in order."""
        if not texts:
            return []
        queries = self.encoder.embed_queries(list(texts))
        empty = not self._has_points()
        refused = [_unsearchable(t, q, empty) for t, q in zip(texts, queries, strict=True)]
        searched = [i for i, outcome in enumerate(refused) if outcome is None]
        # one engine call for the whole list (bench/query_batch.py measures the gain)
        found = self.store.search_batch(
            self.vector, [queries[i].tolist() for i in searched], self.k, exclude=NOT_LABELLED
        )
        hits_of = dict(zip(searched, found, strict=True))
        return [self._route_one(t, refused[i], hits_of.get(i, [])) for i, t in enumerate(texts)]

    def _has_points(self) -> bool:
        # an exact count costs more than the search itself (20 ms at 120k points), so a
        # non-empty answer is remembered; a collection emptied later returns no hits,
        # which routes as an empty collection too
        if not self._seen_points:
            self._seen_points = self.store.count() > 0
        return self._seen_points

    def _outside(self, text: str, language: str, probability: float) -> bool:
        """Whether the wide identifier's answer for ``text`` overrules the vote."""
        short = word_count(text) < OUTSIDE_MIN_WORDS
        return language not in self.languages and probability >= (
            OUTSIDE_PROBABILITY_SHORT if short else OUTSIDE_PROBABILITY
        )

    def _route_one(self, text: str, refused: Outcome | None, hits: list[Hit]) -> Route:
        neighbours: tuple[Neighbour, ...] = ()
        outcome: Outcome
        if refused is not None:
            outcome, language, confidence, kept = refused, None, 0.0, 0
        else:
            neighbours = tuple(
                Neighbour(
                    h.id,
                    str(h.payload.get("language", "")),
                    h.score,
                    str(h.payload.get("text", "")),
                )
                for h in hits
            )
            if not neighbours:
                outcome, language, confidence, kept = "empty_collection", None, 0.0, 0
            else:
                outcome, language, confidence, kept = vote(
                    neighbours, self.threshold, self.min_votes
                )
        source = "neighbours" if outcome == "routed" else None
        wide, named = None, WideIdentifier.name
        if self.wide is not None and refused is None:
            wide, named = self.wide.top(text), self.wide.name
        if wide is not None and _held(text, neighbours):
            wide = None  # the index holds this very text under its label
        if wide is not None and self._outside(text, *wide):
            outcome, (language, confidence), source = "outside_index", wide, named
        elif outcome != "routed" and self.fallback is not None:
            language = self.fallback.identify(text)
            source = self.fallback.name if language else None
        elif outcome != "routed" and wide is not None and wide[1] >= UNROUTED_PROBABILITY:
            (language, confidence), source = wide, named
        return Route(
            text, language, confidence, outcome, source, neighbours, kept, self.store.description
        )


def _held(text: str, neighbours: Sequence[Neighbour]) -> bool:
    """Whether a neighbour is ``text`` itself, spacing aside."""
    words = text.split()
    return any(n.text.split() == words for n in neighbours)


def word_count(text: str) -> int:
    """Words of ``text`` that hold a letter."""
    return sum(1 for part in text.split() if any(c.isalpha() for c in part))


def _unsearchable(text: str, query: np.ndarray, empty: bool) -> Outcome | None:
    """Why ``text`` is not searched (nothing to vote, no features, no letter), or
    ``None`` when it is."""
    if empty:
        return "empty_collection"
    if not np.any(query):
        return "no_features"
    if not any(character.isalpha() for character in text):
        return "no_letters"
    return None
