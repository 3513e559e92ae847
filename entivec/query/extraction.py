"""What ``extract`` returns, and how a route picks an adapter."""

from __future__ import annotations

from dataclasses import dataclass, field

from entivec.errors import AdapterError
from entivec.ner.adapters import JOINT, AdapterRegistry
from entivec.ner.tagging import Entity
from entivec.query.routing import Route


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


def choose_adapter(registry: AdapterRegistry, route: Route) -> str:
    """The registered adapter for ``route``: its language's, else the joint one.

    Only names in the registry's manifest can come out, whatever the payload said.
    """
    if route.language is not None and route.language in registry.names:
        return route.language
    if JOINT in registry.names:
        return JOINT
    wanted = route.language or f"an unrouted text ({route.outcome})"
    raise AdapterError(
        f"no adapter for {wanted!r} and no {JOINT!r} adapter to fall back on; "
        f"registered: {', '.join(registry.names) or 'none'}"
    )
