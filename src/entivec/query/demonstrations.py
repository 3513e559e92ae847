"""Demonstrations: the stored mentions that make the best in-context examples for typing
a marked mention (RUIE), by the ``demo`` retriever's vector."""

from __future__ import annotations

from entivec.loaded import Loaded
from entivec.loaders.crossner import NOT_A_QUERY
from entivec.query.entities import mention_query
from entivec.query.prompts import marked_mention
from entivec.query.search import search_until
from entivec.store import Hit, Store


def demonstrations(
    store: Store,
    loaded: Loaded,
    text: str,
    *,
    k: int = 4,
    language: str | None = None,
    vector: str = "demo",
) -> list[Hit]:
    """See :meth:`entivec.api.Entivec.demonstrations`."""
    marked_mention(text)
    query = mention_query(
        loaded, text, k, vector, hint="demonstrations are mention points (vector='demo')"
    )
    return search_until(
        store,
        vector,
        query,
        k,
        {"language": language} if language else None,
        # the catch-all type teaches the LM no type
        lambda hits: [h for h in hits if h.payload.get("entity_type") not in NOT_A_QUERY],
    )
