"""Entity-type search: sentences with a mention of the type a description names, by the
mention vector, grouped by sentence and by default fused with a sentence vector."""

from __future__ import annotations

from typing import cast

from entivec.errors import InvalidArgumentError
from entivec.loaded import Loaded
from entivec.query.exemplars import expanded_queries
from entivec.query.search import (
    FUSION_DEPTH,
    check_query,
    fuse_by_sentence,
    one_per_sentence,
    search_until,
)
from entivec.query.sentences import sentence_hits
from entivec.registry import MentionEncoder, get_registry
from entivec.store import Hit, Store

# search_entities' default: fuse with this sentence vector when it pays (see auto_fusion)
AUTO = "auto"
AUTO_FUSION_VECTOR = "e5"
# search_entities(group_by=...): the payload keys a grouped search may group mentions by,
# and how many mentions a group keeps (its count stops there)
GROUP_KEYS = ("text",)
DEFAULT_GROUP_SIZE = 10


def search_entities(
    store: Store,
    loaded: Loaded,
    description: str,
    *,
    k: int = 10,
    language: str | None = None,
    entity_type: str | None = None,
    vector: str = "entity",
    fuse_with: str | None = AUTO,
    exemplars: bool = False,
    group_by: str | None = None,
    group_size: int = DEFAULT_GROUP_SIZE,
) -> list[Hit]:
    """See :meth:`entivec.api.Entivec.search_entities`."""
    check_query(description, "the description")
    if group_by is not None:
        if group_by not in GROUP_KEYS:
            raise InvalidArgumentError(
                f"group_by must be one of {', '.join(GROUP_KEYS)}, got {group_by!r}"
            )
        if fuse_with not in (AUTO, None):
            raise InvalidArgumentError(
                "group_by groups mentions; it is not fused with a sentence ranking (fuse_with=None)"
            )
        if group_size < 1:
            raise InvalidArgumentError(f"group_size must be at least 1, got {group_size}")
        fuse_with = None
    if fuse_with == AUTO:
        fuse_with = auto_fusion(store, loaded, description, vector)
    if fuse_with is not None:
        kind = get_registry().encoder_for_vector(fuse_with).embeds
        if kind != "sentence":
            raise InvalidArgumentError(
                f"fuse_with takes a sentence vector; {fuse_with!r} holds {kind} vectors"
            )
    query = mention_query(
        loaded,
        description,
        k,
        vector,
        hint=f"search it with search_sentences(..., vector={vector!r})",
        exemplars=exemplars,
    )
    where = {
        key: value for key, value in (("language", language), ("entity_type", entity_type)) if value
    }
    if group_by is not None:
        groups = store.search_groups(vector, query, k, group_by, group_size, where or None)
        return [
            Hit(group[0].id, group[0].score, {**group[0].payload, "count": len(group)})
            for group in groups
        ]
    depth = k * FUSION_DEPTH if fuse_with else k
    mentions = search_until(store, vector, query, depth, where or None, one_per_sentence)
    if fuse_with is None:
        return mentions
    sentences = sentence_hits(store, loaded, description, depth, fuse_with, where or None)
    return fuse_by_sentence([mentions, sentences], k)


def auto_fusion(store: Store, loaded: Loaded, description: str, vector: str) -> str | None:
    """``e5`` for a description the mention projection was not trained on, when the
    collection holds e5 sentence vectors; else ``None`` (the mentions alone)."""
    if AUTO_FUSION_VECTOR not in store.vectors():
        return None
    _, encoder = loaded.encoder_for_vector(vector)
    trained: frozenset[str] = getattr(encoder, "trained_descriptions", frozenset())
    return None if description.strip().lower() in trained else AUTO_FUSION_VECTOR


def mention_query(
    loaded: Loaded, text: str, k: int, vector: str, *, hint: str, exemplars: bool = False
) -> list[float]:
    """``text`` embedded as a query of the mention vector ``vector``, expanded with
    written instances of the type if ``exemplars``.

    Raises:
        InvalidArgumentError: ``k`` below 1, or ``vector`` holds sentence vectors (``hint``
            says what to do instead).
    """
    if k < 1:
        raise InvalidArgumentError(f"k must be at least 1, got {k}")
    spec = get_registry().encoder_for_vector(vector)
    if spec.embeds != "mention":
        raise InvalidArgumentError(f"{vector!r} holds sentence vectors; {hint}")
    _, encoder = loaded.encoder(spec.name)
    if not exemplars:
        return [float(x) for x in encoder.embed_queries([text])[0]]
    written = loaded.exemplars().write([text])
    mentions = cast(MentionEncoder, encoder)
    return [float(x) for x in expanded_queries(mentions, [text], written)[0]]
