"""Sentence search: the sentences nearest a query by a sentence vector, optionally each
text once, optionally fused with BM25 by the engine."""

from __future__ import annotations

from entivec.errors import SchemaMismatchError
from entivec.loaded import Loaded
from entivec.query.search import check_query, fetch_until, one_per_text
from entivec.store import Hit, Store, query_vector

# The sparse vector a hybrid sentence search fuses with the dense one, and how deep each
# ranking goes before the fusion
HYBRID_VECTOR = "bm25"
HYBRID_DEPTH = 100


def search_sentences(
    store: Store,
    loaded: Loaded,
    text: str,
    *,
    k: int = 10,
    language: str | None = None,
    vector: str = "e5",
    distinct: bool = False,
    hybrid: bool = False,
) -> list[Hit]:
    """See :meth:`entivec.api.Entivec.search_sentences`."""
    check_query(text)
    where = {"language": language} if language else None
    _, encoder = loaded.encoder_for_vector(vector)
    query = query_vector(encoder.embed_queries([text])[0])

    def search(n: int) -> list[Hit]:
        return store.search(vector, query, n, where)

    if hybrid:
        if HYBRID_VECTOR not in store.vectors():
            raise SchemaMismatchError(
                f"{store.description} has no {HYBRID_VECTOR!r} vector for a hybrid "
                f"search; ingest the same files again with --plugin {HYBRID_VECTOR}"
            )
        _, bm25 = loaded.encoder(HYBRID_VECTOR)
        both = [(vector, query), (HYBRID_VECTOR, bm25.embed_queries([text])[0])]

        def search(n: int) -> list[Hit]:
            return store.search_fused(both, n, where, depth=max(n, HYBRID_DEPTH))

    if not distinct:
        return search(k)
    return fetch_until(search, k, one_per_text)


def sentence_hits(
    store: Store, loaded: Loaded, text: str, k: int, vector: str, where: dict[str, str] | None
) -> list[Hit]:
    """The ``k`` sentence points nearest ``text`` by ``vector``, as stored."""
    _, encoder = loaded.encoder_for_vector(vector)
    query = encoder.embed_queries([text])[0]
    return store.search(vector, query.tolist(), k, where)
