"""The Python API: one object per store.

>>> from entivec import Entivec
>>> with Entivec("./my-store") as ev:
...     ev.ingest("wikiann", ["../shared/data/wikiann/de/val.conllu"], limit=1000)
...     hits = ev.search_sentences("a political party in Germany", k=5)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from entivec.annotation.annotator import Annotator
from entivec.annotation.extraction import Extraction, choose_adapter
from entivec.annotation.langid import identifier as language_identifier
from entivec.annotation.routing import DEFAULT_K, DEFAULT_MIN_VOTES, NOT_LABELLED, Route, Router
from entivec.errors import (
    AdapterError,
    InvalidArgumentError,
    InvalidStoreError,
    ModelNotPreparedError,
    SchemaMismatchError,
)
from entivec.ingest.pipeline import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_WINDOW,
    IngestReport,
    Survey,
    ingest,
    survey,
)
from entivec.loaders import LoadStats, load
from entivec.models import MANIFEST, adapters_dir, routing_index_dir
from entivec.ner.adapters import AdapterRegistry
from entivec.ner.onnx_engine import OnnxNerModel
from entivec.ner.tagging import NerEngine, entities_from_tags, words_with_offsets
from entivec.query.exemplars import ExemplarWriter, expanded_queries
from entivec.query.search import (
    FUSION_DEPTH,
    fetch_until,
    fuse_by_sentence,
    one_per_sentence,
    one_per_text,
    search_until,
)
from entivec.registry import Encoder, EncoderSpec, MentionEncoder, get_registry
from entivec.store import (
    DEFAULT_COLLECTION,
    Hit,
    IndexSettings,
    Layout,
    ServerOptions,
    Store,
    open_store,
)

NER_ENGINES = ("onnx", "torch")
# The sparse vector a hybrid sentence search fuses with the dense one, and how deep each
# ranking goes before the fusion
HYBRID_VECTOR = "bm25"
# search_entities' default: fuse with this sentence vector when it pays (see _auto_fusion)
AUTO = "auto"
AUTO_FUSION_VECTOR = "e5"
HYBRID_DEPTH = 100
NER_MODES = ("auto", "force", "off")


class Entivec:
    """A store plus the encoders that fill and query it.

    Args:
        store: A directory (Qdrant Edge), an http(s) URL (Qdrant server), or an open
            :class:`~entivec.store.Store`.
        collection: Collection name.
        variant: Encoder artefact variant (``fp32`` or ``int8``) for every plugin.
        server: How to reach a Qdrant server: gRPC port, whether the API key may travel
            over plain http, request timeout (:class:`~entivec.store.ServerOptions`).
        shards: On a Qdrant cluster, the shards of a collection this creates
            (``shard_number``).
        replicas: Copies of each shard (``replication_factor``); with 2 or more, reads
            keep working when a node stops.
        write_consistency: Replicas that must acknowledge a write
            (``write_consistency_factor``).
        index: How a collection this creates builds its HNSW graph (``ef_construct``
            and the rest: :class:`~entivec.store.IndexSettings`, measured in
            bench/README.md).

    Raises:
        InvalidArgumentError: ``shards``, ``replicas`` or ``write_consistency`` above 1 for
            Qdrant Edge or qdrant-client's local mode, which keep one copy in one shard.
        SchemaMismatchError: An existing collection laid out otherwise (when it is first
            written to).
    """

    def __init__(
        self,
        store: str | Path | Store,
        *,
        collection: str = DEFAULT_COLLECTION,
        variant: str = "fp32",
        server: ServerOptions | None = None,
        shards: int | None = None,
        replicas: int | None = None,
        write_consistency: int | None = None,
        index: IndexSettings | None = None,
    ) -> None:
        layout = Layout(shards, replicas, write_consistency)
        if isinstance(store, str | Path):
            self.store: Store = open_store(
                str(store), collection=collection, server=server, layout=layout, index=index
            )
        elif hasattr(store, "search"):
            self.store = store
        else:
            raise InvalidStoreError(
                f"expected a path, a URL or a Store, got {type(store).__name__}"
            )
        self.variant = variant
        self._encoders: dict[str, Encoder] = {}
        self._ner: dict[tuple[str, str], NerEngine] = {}
        self._exemplar_writer: ExemplarWriter | None = None
        self._indexes: dict[str, Store] = {}

    def encoder(self, plugin: str) -> tuple[EncoderSpec, Encoder]:
        """The spec and the loaded encoder of ``plugin`` (loaded once, then reused)."""
        spec = get_registry().encoder(plugin)
        if plugin not in self._encoders:
            variant = self.variant if self.variant in spec.variants else spec.variants[0]
            self._encoders[plugin] = spec.load(variant=variant)
        return spec, self._encoders[plugin]

    def ingest(
        self,
        format: str,
        paths: Iterable[str | Path],
        *,
        plugins: Iterable[str] = ("e5",),
        language: str | None = None,
        corpus: str | None = None,
        limit: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        window: int = DEFAULT_WINDOW,
        resume: bool = True,
        show_progress: bool | None = None,
        root: str | Path | None = None,
        ner: str = "auto",
        adapters: str | Path | None = None,
        ner_engine: str = "onnx",
        routing_index: str | Path | Store | None = None,
        document_per_file: bool = False,
        workers: int | None = None,
    ) -> tuple[IngestReport, LoadStats]:
        """Read corpus files and store one point per sentence (and per mention).

        Raw text is annotated on the way (:mod:`entivec.annotation.annotator`): a sentence without a
        language is routed (against ``routing_index``, by default the index shipped with
        the models, else this collection when it holds labelled ``lang`` vectors), and
        one without gold spans is tagged by its language's NER adapter.

        The files are read once up front to count and validate them (a malformed line or
        an id used twice fails before anything is encoded), then streamed again for
        ingestion. After a run without ``limit``, points that the files no longer yield
        are removed: the collection holds what a clean ingest of the files would.

        Args:
            root: Sentences' ``source`` (part of their ids) is their file's path relative
                to this folder; by default the file's absolute path. Give one to keep ids
                when the corpus moves.
            ner: ``auto`` tags sentences without gold spans, ``force`` every sentence
                (replacing gold spans, to evaluate), ``off`` none.
            adapters: The NER adapter registry (default: the one ``entivec train lora``
                writes).
            ner_engine: ``onnx`` or ``torch`` (see :meth:`ner_model`).
            routing_index: Where routing finds labelled neighbours (see :meth:`router`).
            document_per_file: Read each ``text`` file as one document.
            workers: Encode on this many Ray actors per plugin (:mod:`entivec.ingest.distributed`,
                the ``distributed`` extra); the rest of the run stays in this process.

        Returns:
            What was stored, and what the loader counted (sentences, spans, repaired tags).
        """
        if ner not in NER_MODES:
            raise InvalidArgumentError(
                f"unknown ner mode {ner!r}; expected one of: {', '.join(NER_MODES)}"
            )
        files = [Path(p) for p in paths]
        options: dict[str, Any] = {
            "language": language,
            "corpus": corpus,
            "limit": limit,
            "root": root,
            "require_language": False,
            "document_per_file": document_per_file,
        }
        surveyed = survey(load(format, files, **options), complete=limit is None)
        annotator = self._annotator(surveyed, ner, adapters, ner_engine, routing_index, files)
        if workers is None:
            encoders = [self.encoder(p) for p in plugins]
        else:
            from entivec.ingest.distributed import ray_encoders

            specs = [get_registry().encoder(p) for p in plugins]
            encoders = list(zip(specs, ray_encoders(specs, self.variant, workers), strict=True))
        stats = LoadStats()
        report = ingest(
            load(format, files, stats=stats, **options),
            self.store,
            encoders,
            batch_size=batch_size,
            window=window,
            resume=resume,
            show_progress=show_progress,
            surveyed=surveyed,
            annotate=annotator,
        )
        return report, stats

    def _annotator(
        self,
        surveyed: Survey,
        ner: str,
        adapters: str | Path | None,
        engine: str,
        routing_index: str | Path | Store | None,
        paths: Sequence[Path],
    ) -> Annotator | None:
        """What the stream needs: a router for sentences without a language, the NER model
        for sentences without gold spans (or for all, ``ner="force"``)."""
        router = None
        if surveyed.without_language:
            # the shipped index before the collection itself: what a rerun routes against
            # must not depend on what the first run wrote (its routed languages)
            shipped = routing_index_dir()
            if routing_index is None and (shipped / MANIFEST).is_file():
                routing_index = shipped
            router = self.router(index=routing_index)
            if router.store.count() == 0:
                raise ModelNotPreparedError(
                    f"{surveyed.without_language} sentences of {paths[0]} have no language, "
                    "and there is nothing to route them against: build the routing index "
                    "with `entivec train routing wikiann ../shared/data/wikiann/*/train.conllu`, "
                    "pass --routing-index DIR, or give --language"
                )
        model = None
        if ner == "force" or (ner == "auto" and surveyed.without_gold_spans):
            try:
                model = self.ner_model(adapters, engine)
            except AdapterError as exc:
                raise AdapterError(f"{exc}; or ingest without tagging (--no-ner)") from None
        if router is None and model is None:
            return None
        return Annotator(router, model, force_ner=ner == "force")

    def search_sentences(
        self,
        text: str,
        *,
        k: int = 10,
        language: str | None = None,
        vector: str = "e5",
        distinct: bool = False,
        hybrid: bool = False,
    ) -> list[Hit]:
        """Sentences nearest to ``text`` by a sentence vector (cross-lingual with ``e5``).

        Args:
            text: The query, in any language.
            k: Number of hits.
            language: Keep only sentences whose ``language`` payload is this.
            vector: The named vector to search.
            distinct: Each text once, as its best hit (corpora repeat sentences: WikiANN
                holds "Tottenham Hotspur FC" in several files); the store is searched
                deeper until ``k`` distinct texts are found or it has no more.
            hybrid: Fuse ``vector``'s ranking with BM25's by the engine's reciprocal rank
                fusion (scores are then fusion scores); the collection needs the ``bm25``
                plugin's vector (ingest with ``--plugin bm25``).

        Raises:
            SchemaMismatchError: ``hybrid`` on a collection without ``bm25``.
        """
        where = {"language": language} if language else None
        spec = get_registry().encoder_for_vector(vector)
        _, encoder = self.encoder(spec.name)
        query = [float(x) for x in encoder.embed_queries([text])[0]]

        def search(n: int) -> list[Hit]:
            return self.store.search(vector, query, n, where)

        if hybrid:
            if HYBRID_VECTOR not in self.store.vectors():
                raise SchemaMismatchError(
                    f"{self.store.description} has no {HYBRID_VECTOR!r} vector for a hybrid "
                    f"search; ingest the same files again with --plugin {HYBRID_VECTOR}"
                )
            _, bm25 = self.encoder(HYBRID_VECTOR)
            both = [(vector, query), (HYBRID_VECTOR, bm25.embed_queries([text])[0])]

            def search(n: int) -> list[Hit]:
                return self.store.search_fused(both, n, where, depth=max(n, HYBRID_DEPTH))

        if not distinct:
            return search(k)
        return fetch_until(search, k, one_per_text)

    def _sentence_hits(
        self, text: str, k: int, vector: str, where: dict[str, str] | None
    ) -> list[Hit]:
        spec = get_registry().encoder_for_vector(vector)
        _, encoder = self.encoder(spec.name)
        query = encoder.embed_queries([text])[0]
        return self.store.search(vector, query.tolist(), k, where)

    def search_entities(
        self,
        description: str,
        *,
        k: int = 10,
        language: str | None = None,
        entity_type: str | None = None,
        vector: str = "entity",
        fuse_with: str | None = AUTO,
        exemplars: bool = False,
    ) -> list[Hit]:
        """Sentences with a mention of the type ``description`` names, best mention first.

        Mention points are searched and grouped by sentence: each sentence appears once,
        with its best-scoring mention (R-Precision counts sentences, not mentions).

        With ``fuse_with="e5"`` the mention ranking is fused with the sentence vector's
        ranking of the same query (reciprocal rank fusion, qdrant-client's): the entity
        vector knows types, the sentence vector knows the words a type's sentences use,
        and on types the projection never saw the fusion beats both
        (docs/ner-retriever.md). A sentence found only by the sentence vector comes back
        as its sentence point (no ``span``); scores are then fusion scores, not cosines.

        Args:
            description: A type's name or description (``"a political party"``).
            k: Number of sentences.
            language: Keep only mentions whose ``language`` payload is this.
            entity_type: Keep only mentions annotated with this type.
            vector: The named mention vector to search.
            fuse_with: A named sentence vector whose ranking to fuse with the mentions',
                ``None`` for the mentions alone, or ``"auto"`` (the default): fused with
                ``e5`` when the collection holds it, unless ``description`` is a type name
                the projection was trained on, which the entity vector alone ranks best.
                Measured over four sets of held-out types, the fusion leads e5 by .058 to
                .087 R-Precision and the entity vector alone by .04 to .08; on trained
                types the entity vector alone leads the fusion by .05 to .09
                (docs/ner-retriever.md).
            exemplars: Expand the query with instances of the type that SmolLM2 writes
                (:mod:`entivec.query.exemplars`): better on types the projection never saw
                (docs/ner-retriever.md), at the cost of loading the LM once and about a second of
                generation per new description.

        Raises:
            InvalidArgumentError: ``k`` is below 1, ``vector`` is not a mention vector,
                or ``fuse_with`` is not a sentence vector.
        """
        if fuse_with == AUTO:
            fuse_with = self._auto_fusion(description, vector)
        if fuse_with is not None:
            kind = get_registry().encoder_for_vector(fuse_with).embeds
            if kind != "sentence":
                raise InvalidArgumentError(
                    f"fuse_with takes a sentence vector; {fuse_with!r} holds {kind} vectors"
                )
        query = self._mention_query(
            description,
            k,
            vector,
            hint=f"search it with search_sentences(..., vector={vector!r})",
            exemplars=exemplars,
        )
        where = {
            key: value
            for key, value in (("language", language), ("entity_type", entity_type))
            if value
        }

        depth = k * FUSION_DEPTH if fuse_with else k
        mentions = search_until(self.store, vector, query, depth, where or None, one_per_sentence)
        if fuse_with is None:
            return mentions
        sentences = self._sentence_hits(description, depth, fuse_with, where or None)
        return fuse_by_sentence([mentions, sentences], k)

    def _auto_fusion(self, description: str, vector: str) -> str | None:
        """``e5`` for a description the mention projection was not trained on, when the
        collection holds e5 sentence vectors; else ``None`` (the mentions alone)."""
        if AUTO_FUSION_VECTOR not in self.store.vectors():
            return None
        _, encoder = self.encoder(get_registry().encoder_for_vector(vector).name)
        trained: frozenset[str] = getattr(encoder, "trained_descriptions", frozenset())
        return None if description.strip().lower() in trained else AUTO_FUSION_VECTOR

    def demonstrations(
        self, text: str, *, k: int = 4, language: str | None = None, vector: str = "demo"
    ) -> list[Hit]:
        """The ``k`` stored mentions that make the best in-context demonstrations for typing
        the bracketed mention of ``text``, best first.

        Args:
            text: The input, with the mention to type in brackets
                (``"Blair led [Labour] to victory."``).
            k: Number of demonstrations.
            language: Keep only demonstrations whose ``language`` payload is this.
            vector: The named vector of a demonstration retriever.

        Returns:
            Mention points: ``payload["sentence_text"]``, ``["span"]`` and
            ``["entity_type"]`` make the demonstration (:func:`entivec.query.prompts.prompt`). The
            catch-all ``misc`` type is never returned, as it teaches the LM no type.

        Raises:
            InvalidArgumentError: ``text`` lacks exactly one bracketed mention, ``k`` is
                below 1, or ``vector`` does not hold mention points.
        """
        from entivec.loaders.crossner import NOT_A_QUERY
        from entivec.query.prompts import marked_mention

        marked_mention(text)
        query = self._mention_query(
            text, k, vector, hint="demonstrations are mention points (vector='demo')"
        )
        return search_until(
            self.store,
            vector,
            query,
            k,
            {"language": language} if language else None,
            lambda hits: [h for h in hits if h.payload.get("entity_type") not in NOT_A_QUERY],
        )

    def _mention_query(
        self, text: str, k: int, vector: str, *, hint: str, exemplars: bool = False
    ) -> list[float]:
        """``text`` embedded as a query of the mention vector ``vector``, expanded with
        written instances of the type if ``exemplars``."""
        if k < 1:
            raise InvalidArgumentError(f"k must be at least 1, got {k}")
        spec = get_registry().encoder_for_vector(vector)
        if spec.embeds != "mention":
            raise InvalidArgumentError(f"{vector!r} holds sentence vectors; {hint}")
        _, encoder = self.encoder(spec.name)
        if not exemplars:
            return [float(x) for x in encoder.embed_queries([text])[0]]
        if self._exemplar_writer is None:
            self._exemplar_writer = ExemplarWriter()
        written = self._exemplar_writer.write([text])
        mentions = cast(MentionEncoder, encoder)
        return [float(x) for x in expanded_queries(mentions, [text], written)[0]]

    def router(
        self,
        *,
        vector: str = "lang",
        k: int = DEFAULT_K,
        threshold: float | None = None,
        fallback: str | None = None,
        min_votes: int = DEFAULT_MIN_VOTES,
        index: str | Path | Store | None = None,
    ) -> Router:
        """A :class:`~entivec.annotation.routing.Router` over this store.

        Args:
            vector: The named vector to retrieve neighbours by (``lang`` keeps language
                identity; ``e5`` does not, see docs/retrieveall.md).
            k: Neighbours per text.
            threshold: τ; by default the vector's calibrated threshold.
            fallback: A language-ID library (``lingua``, ``langdetect``, ``fasttext``,
                ``cld2``, ``py3langid``) to answer when the neighbours cannot decide,
                restricted to the router's languages; ``None`` leaves such texts
                unrouted.
            min_votes: Agreeing neighbours above τ a route needs (at most ``k``).
            index: The store whose labelled sentences vote (a directory, a URL or a
                :class:`~entivec.store.Store`). By default this collection when it holds
                ``vector`` and ``language`` payloads, else the routing index shipped with
                the models (``entivec train routing`` builds it).
        """
        spec = get_registry().encoder_for_vector(vector)
        _, encoder = self.encoder(spec.name)
        identifier = None
        if fallback is not None:
            languages = getattr(encoder, "languages", None) or self.languages()
            identifier = language_identifier(fallback, languages)
        return Router(
            self._routing_store(vector, index),
            encoder,
            vector=vector,
            k=k,
            threshold=threshold,
            fallback=identifier,
            min_votes=min_votes,
        )

    def _routing_store(self, vector: str, index: str | Path | Store | None) -> Store:
        """Where routing retrieves neighbours from (see :meth:`router`)."""
        if index is None:
            if self._holds_labelled(vector):
                return self.store
            shipped = routing_index_dir()
            if vector != "lang" or not (shipped / MANIFEST).is_file():
                return self.store  # routes say empty_collection; the docs say what to build
            index = shipped
        if not isinstance(index, str | Path):
            return index
        key = str(index)
        if key not in self._indexes:
            self._indexes[key] = open_store(key)
        return self._indexes[key]

    def _holds_labelled(self, vector: str) -> bool:
        """Whether this collection has ``vector`` on a point whose language was not routed."""
        schema = self.store.vectors().get(vector)
        if schema is None or not self.store.distinct("language", limit=1):
            return False
        probe = [1.0] + [0.0] * (schema.size - 1)
        return bool(self.store.search(vector, probe, 1, exclude=NOT_LABELLED))

    def route(
        self,
        texts: str | Sequence[str],
        *,
        vector: str = "lang",
        k: int = DEFAULT_K,
        threshold: float | None = None,
        fallback: str | None = None,
        min_votes: int = DEFAULT_MIN_VOTES,
        index: str | Path | Store | None = None,
    ) -> list[Route]:
        """Route each text to a language by its neighbours in the store.

        See :meth:`router` for the arguments; build a router once when routing often.
        """
        if isinstance(texts, str):
            texts = [texts]
        router = self.router(
            vector=vector,
            k=k,
            threshold=threshold,
            fallback=fallback,
            min_votes=min_votes,
            index=index,
        )
        return router.route(texts)

    def ner_model(self, adapters: str | Path | None = None, engine: str = "onnx") -> NerEngine:
        """The NER model with the adapters of registry ``adapters`` (built once per path
        and engine; by default the registry ``entivec train lora`` writes).

        Args:
            adapters: The adapter registry directory.
            engine: ``onnx`` (onnxruntime, one graph and LoRA adapter files; needs
                ``entivec export ner``) or ``torch`` (PyTorch and PEFT).

        Raises:
            ValueError: An unknown engine.
            AdapterError: No registry, or no ONNX export for the ``onnx`` engine.
        """
        if engine not in NER_ENGINES:
            raise InvalidArgumentError(
                f"unknown NER engine {engine!r}; expected one of: {', '.join(NER_ENGINES)}"
            )
        folder = Path(adapters) if adapters is not None else adapters_dir()
        key = (str(folder.resolve()), engine)
        if key not in self._ner:
            registry = AdapterRegistry(folder)
            if engine == "onnx":
                self._ner[key] = OnnxNerModel(registry)
            else:
                from entivec.ner.peft_engine import NerModel

                self._ner[key] = NerModel(registry)
        return self._ner[key]

    def extract(
        self,
        texts: str | Sequence[str],
        *,
        adapters: str | Path | None = None,
        router: Router | None = None,
        engine: str = "onnx",
        index: str | Path | Store | None = None,
    ) -> list[Extraction]:
        """Entities of each text, with the LoRA adapter of the language it is routed to.

        Texts are routed (by :meth:`router`'s defaults, against ``index`` when given,
        unless ``router`` is given),
        grouped by adapter, and each group runs with its adapter active. A text the
        neighbours cannot route, or routed to a language without an adapter, uses the
        ``joint`` adapter when the registry has one.

        Raises:
            AdapterError: A text needs an adapter the registry does not have.
        """
        if isinstance(texts, str):
            texts = [texts]
        model = self.ner_model(adapters, engine)
        routes = (router or self.router(index=index)).route(texts)
        names = [choose_adapter(model.registry, r) for r in routes]
        tags: dict[int, list[str]] = {}
        for name in sorted(set(names)):
            rows = [i for i, n in enumerate(names) if n == name]
            words = [[w for w, _, _ in words_with_offsets(texts[i])] for i in rows]
            for i, row_tags in zip(rows, model.predict(name, words), strict=True):
                tags[i] = row_tags
        return [
            Extraction(
                text=text,
                language=route.language,
                confidence=route.confidence,
                routed=route.routed,
                adapter=name,
                entities=entities_from_tags(text, tags[i]),
            )
            for i, (text, route, name) in enumerate(zip(texts, routes, names, strict=True))
        ]

    def languages(self) -> list[str]:
        """The distinct ``language`` payloads in the store."""
        return self.store.distinct("language")

    def close(self) -> None:
        """Close the store (and the routing indexes it opened)."""
        for index in self._indexes.values():
            index.close()
        self._indexes.clear()
        self.store.close()

    def __enter__(self) -> Entivec:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
