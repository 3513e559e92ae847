"""What the frameworks' retrievers share: entivec's search, and a hit as text, metadata
and score."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from entivec.errors import InvalidArgumentError
from entivec.registry import Encoder
from entivec.store import Hit

if TYPE_CHECKING:
    from entivec.api import Entivec

Mode = Literal["sentences", "entities"]
MODES = ("sentences", "entities")


@dataclass(frozen=True)
class Found:
    """A hit as a framework's document: the sentence, its payload and the score."""

    id: str
    text: str
    metadata: dict[str, Any]
    score: float


@cache
def encoder(plugin: str, variant: str = "fp32") -> Encoder:
    """The loaded encoder of ``plugin`` (its ``variant`` where it has one), loaded once
    per process: a framework may build its embedding object many times."""
    from entivec.loaded import Loaded

    return Loaded(variant=variant).encoder(plugin)[1]


def found(hit: Hit) -> Found:
    """``hit`` as a document: a mention point reads as its sentence, with the mention,
    its span and type in the metadata."""
    payload = dict(hit.payload)
    if "sentence_text" in payload:  # a mention point
        text = str(payload.pop("sentence_text"))
        payload["mention"] = payload.pop("text", "")
    else:
        text = str(payload.pop("text", ""))
    payload.pop("fingerprint", None)
    payload.pop("encoded_by", None)
    payload["score_kind"] = hit.score_kind  # a fused score is not a similarity
    return Found(hit.id, text, payload, hit.score)


def search(
    ev: Entivec,
    query: str,
    *,
    k: int,
    mode: Mode,
    language: str | None,
    route: bool,
    entity_type: str | None,
    vector: str | None,
    group_by: str | None = None,
) -> list[Found]:
    """entivec's search for a framework's retriever.

    Args:
        mode: ``sentences`` (:meth:`~entivec.api.Entivec.search_sentences`, one hit per
            text) or ``entities`` (:meth:`~entivec.api.Entivec.search_entities`: ``query``
            names a type, one hit per sentence).
        language: Keep only hits in this language.
        route: Route ``query`` and keep only hits in its language (when it is routed).
        entity_type: With ``entities``, keep only mentions annotated with this type.
        vector: The named vector (default ``e5``, or ``entity`` with ``entities``).
        group_by: With ``entities``, ``"text"``: one hit per distinct mention, its
            ``count`` in the metadata.
    """
    if mode not in MODES:
        raise InvalidArgumentError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if route and language is None:
        [routed] = ev.route(query)
        language = routed.language
    if mode == "entities":
        hits = ev.search_entities(
            query,
            k=k,
            language=language,
            entity_type=entity_type,
            vector=vector or "entity",
            group_by=group_by,
        )
    else:
        hits = ev.search_sentences(
            query, k=k, language=language, vector=vector or "e5", distinct=True
        )
    return [found(h) for h in hits]
