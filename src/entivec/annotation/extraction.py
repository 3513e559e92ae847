"""Which adapter tags a text, the one "group by adapter, tag" loop that ingestion and
``extract`` share, and what ``extract`` returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from entivec.annotation.routing import Route
from entivec.errors import AdapterError
from entivec.ner.adapters import JOINT, AdapterRegistry
from entivec.ner.tagging import Entity, NerEngine, entities_from_tags, words_with_offsets


@dataclass(frozen=True)
class Extraction:
    """The entities of one text and how its adapter was chosen.

    Attributes:
        text: The input.
        language: The routed language (``None`` when unrouted).
        confidence: The route's confidence (share of neighbours that voted for it).
        routed: Whether the neighbours decided the language.
        adapter: The adapter that ran.
        entities: Mentions with character offsets into ``text``.
    """

    text: str
    language: str | None
    confidence: float
    routed: bool
    adapter: str
    entities: list[Entity] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "text": self.text,
            "language": self.language,
            "confidence": round(self.confidence, 4),
            "routed": self.routed,
            "adapter": self.adapter,
            "entities": [
                {"start": e.start, "end": e.end, "type": e.type, "text": e.text}
                for e in self.entities
            ],
        }


def adapter_for(registry: AdapterRegistry, language: str | None, unrouted: str = "") -> str:
    """The registered adapter for a text of ``language``: its own, else the joint one.

    Only names in the registry's manifest can come out, whatever the payload said.

    Args:
        unrouted: How the message names a text without a language.

    Raises:
        AdapterError: Neither the language's adapter nor the joint one is registered.
    """
    if language and language in registry.names:
        return language
    if JOINT in registry.names:
        return JOINT
    wanted = language or unrouted or "an unrouted text"
    raise AdapterError(
        f"no adapter for {wanted!r} and no {JOINT!r} adapter to fall back on in "
        f"{registry.root}; registered: {', '.join(registry.names) or 'none'}"
    )


def choose_adapter(registry: AdapterRegistry, route: Route) -> str:
    """The registered adapter for ``route`` (see :func:`adapter_for`)."""
    return adapter_for(registry, route.language, f"an unrouted text ({route.outcome})")


def tag_by_adapter(
    ner: NerEngine, adapters: Sequence[str], words: Sequence[Sequence[str]]
) -> list[list[str]]:
    """The tags of each row of ``words`` by the adapter named beside it: the rows of one
    adapter run together, with it active, the adapters in name order."""
    tags: dict[int, list[str]] = {}
    for name in sorted(set(adapters)):
        rows = [i for i, n in enumerate(adapters) if n == name]
        for i, row_tags in zip(
            rows, ner.predict(name, [list(words[i]) for i in rows]), strict=True
        ):
            tags[i] = row_tags
    return [tags[i] for i in range(len(words))]


def extract(ner: NerEngine, texts: Sequence[str], routes: Sequence[Route]) -> list[Extraction]:
    """The entities of each routed text, tagged with its route's adapter."""
    names = [choose_adapter(ner.registry, r) for r in routes]
    words = [[w for w, _, _ in words_with_offsets(text)] for text in texts]
    tags = tag_by_adapter(ner, names, words)
    return [
        Extraction(
            text=text,
            language=route.language,
            confidence=route.confidence,
            routed=route.routed,
            adapter=name,
            entities=entities_from_tags(text, text_tags),
        )
        for text, route, name, text_tags in zip(texts, routes, names, tags, strict=True)
    ]
