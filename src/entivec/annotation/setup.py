"""Setting annotation up: which store routing reads, the router, and the annotator an
ingestion needs (a router for sentences without a language, the NER model for sentences
without gold spans)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from entivec.annotation.annotator import Annotator
from entivec.annotation.langid import identifier as language_identifier
from entivec.annotation.routing import DEFAULT_K, DEFAULT_MIN_VOTES, NOT_LABELLED, Router
from entivec.errors import AdapterError, InvalidArgumentError, ModelNotPreparedError
from entivec.loaded import Loaded
from entivec.models import MANIFEST, routing_index_dir
from entivec.store import Store

NER_MODES = ("auto", "force", "off")


def router_for(
    store: Store,
    loaded: Loaded,
    *,
    vector: str = "lang",
    k: int = DEFAULT_K,
    threshold: float | None = None,
    fallback: str | None = None,
    min_votes: int = DEFAULT_MIN_VOTES,
    index: str | Path | Store | None = None,
    wide: bool = True,
) -> Router:
    """A :class:`~entivec.annotation.routing.Router` for texts searched against ``store``
    (see :meth:`entivec.api.Entivec.router` for the arguments)."""
    _, encoder = loaded.encoder_for_vector(vector)
    identifier = None
    if fallback is not None:
        languages = getattr(encoder, "languages", None) or store.distinct("language")
        identifier = language_identifier(fallback, languages)
    return Router(
        routing_store(store, loaded, vector, index),
        encoder,
        vector=vector,
        k=k,
        threshold=threshold,
        fallback=identifier,
        min_votes=min_votes,
        wide=loaded.wide_identifier() if wide else None,
    )


def routing_store(
    store: Store, loaded: Loaded, vector: str, index: str | Path | Store | None
) -> Store:
    """Where routing retrieves neighbours: ``index`` when given, else ``store`` when it
    holds labelled ``vector`` points, else the routing index shipped with the models."""
    if index is None:
        if holds_labelled(store, vector):
            return store
        shipped = routing_index_dir()
        if vector != "lang" or not (shipped / MANIFEST).is_file():
            return store  # routes say empty_collection; the docs say what to build
        index = shipped
    if not isinstance(index, str | Path):
        return index
    return loaded.store(index)


def holds_labelled(store: Store, vector: str) -> bool:
    """Whether ``store`` has ``vector`` on a point whose language was not routed."""
    schema = store.vectors().get(vector)
    if schema is None or not store.distinct("language", limit=1):
        return False
    probe = [1.0] + [0.0] * (schema.size - 1)
    return bool(store.search(vector, probe, 1, exclude=NOT_LABELLED))


def check_ner_mode(ner: str) -> None:
    """Raise :class:`InvalidArgumentError` for a ``ner`` mode that is not one of
    :data:`NER_MODES`."""
    if ner not in NER_MODES:
        raise InvalidArgumentError(
            f"unknown ner mode {ner!r}; expected one of: {', '.join(NER_MODES)}"
        )


def annotator_for(
    store: Store,
    loaded: Loaded,
    *,
    without_language: int,
    without_gold_spans: int,
    ner: str,
    adapters: str | Path | None,
    engine: str,
    routing_index: str | Path | Store | None,
    paths: Sequence[Path],
) -> Annotator | None:
    """What an ingestion's stream needs: a router when ``without_language`` sentences
    lack a language, the NER model when sentences lack gold spans (or for all,
    ``ner="force"``); ``None`` when it needs neither.

    Raises:
        InvalidArgumentError: An unknown ``ner`` mode.
        ModelNotPreparedError: Sentences to route and nothing to route them against.
        AdapterError: Sentences to tag and no adapters to tag them with.
    """
    check_ner_mode(ner)
    router = None
    if without_language:
        # the shipped index before the collection itself: what a rerun routes against
        # must not depend on what the first run wrote (its routed languages)
        shipped = routing_index_dir()
        if routing_index is None and (shipped / MANIFEST).is_file():
            routing_index = shipped
        router = router_for(store, loaded, index=routing_index)
        if router.store.count() == 0:
            raise ModelNotPreparedError(
                f"{without_language} sentences of {paths[0]} have no language, "
                "and there is nothing to route them against: build the routing index "
                "with `entivec train routing wikiann ../shared/data/wikiann/*/train.conllu`, "
                "pass --routing-index DIR, or give --language"
            )
    model = None
    if ner == "force" or (ner == "auto" and without_gold_spans):
        try:
            model = loaded.ner_engine(adapters, engine)
        except AdapterError as exc:
            raise AdapterError(f"{exc}; or ingest without tagging (--no-ner)") from None
    if router is None and model is None:
        return None
    return Annotator(router, model, force_ner=ner == "force")
