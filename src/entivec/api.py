"""The Python API: one object per store, each verb a few lines that hand over to the room
that does it (ingestion, search, routing, extraction).

>>> from entivec import Entivec
>>> with Entivec("./my-store") as ev:
...     ev.ingest("wikiann", ["../shared/data/wikiann/de/val.conllu"], limit=1000)
...     hits = ev.search_sentences("a political party in Germany", k=5)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from entivec.annotation import extraction
from entivec.annotation.extraction import Extraction
from entivec.annotation.routing import DEFAULT_K, DEFAULT_MIN_VOTES, Route, Router
from entivec.annotation.setup import router_for
from entivec.errors import InvalidStoreError
from entivec.ingest.pipeline import DEFAULT_BATCH_SIZE, DEFAULT_WINDOW, ingest_files
from entivec.ingest.report import IngestReport
from entivec.loaded import Loaded
from entivec.loaders import LoadStats
from entivec.ner.tagging import NerEngine
from entivec.query import demonstrations, entities, sentences
from entivec.query.entities import AUTO, DEFAULT_GROUP_SIZE
from entivec.registry import Encoder, EncoderSpec
from entivec.store import (
    DEFAULT_COLLECTION,
    Hit,
    IndexSettings,
    Layout,
    ServerOptions,
    Store,
    open_store,
)


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
        index: How a collection this creates builds its HNSW graph (``ef_construct``,
            ``quantization="int8"`` and the rest: :class:`~entivec.store.IndexSettings`,
            measured in bench/README.md).

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
        # encoders, NER engines, routing indexes and the exemplar LM, loaded once
        self.loaded = Loaded(variant)

    def encoder(self, plugin: str) -> tuple[EncoderSpec, Encoder]:
        """The spec and the loaded encoder of ``plugin`` (loaded once, then reused)."""
        return self.loaded.encoder(plugin)

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
        language_from_path: bool = False,
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
                to this folder; by default its folder and name (``de/val.conllu``), so
                the ids stay when the corpus moves. A file named like another whose
                points the collection holds, which still exists, is refused unless a
                root is given (:mod:`entivec.ingest.sources`).
            ner: ``auto`` tags sentences without gold spans, ``force`` every sentence
                (replacing gold spans, to evaluate), ``off`` none.
            adapters: The NER adapter registry (default: the one ``entivec train lora``
                writes).
            ner_engine: ``onnx``, ``onnx-int8`` or ``torch`` (see :meth:`ner_model`).
            routing_index: Where routing finds labelled neighbours (see :meth:`router`).
            document_per_file: Read each ``text`` file as one document.
            language_from_path: Raw text takes the language its folder or file names
                (``it/notes.txt``) instead of being routed; annotated formats always do
                (``de/train.conllu``).
            workers: Encode on this many Ray actors per plugin (:mod:`entivec.ingest.distributed`,
                the ``distributed`` extra); the rest of the run stays in this process.

        Returns:
            What was stored, and what the loader counted (sentences, spans, repaired tags).
        """
        return ingest_files(
            self.store,
            self.loaded,
            format,
            paths,
            plugins=plugins,
            language=language,
            corpus=corpus,
            limit=limit,
            batch_size=batch_size,
            window=window,
            resume=resume,
            show_progress=show_progress,
            root=root,
            ner=ner,
            adapters=adapters,
            ner_engine=ner_engine,
            routing_index=routing_index,
            document_per_file=document_per_file,
            language_from_path=language_from_path,
            workers=workers,
        )

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
            InvalidArgumentError: ``text`` is blank or holds a NUL.
            SchemaMismatchError: ``hybrid`` on a collection without ``bm25``.
        """
        return sentences.search_sentences(
            self.store,
            self.loaded,
            text,
            k=k,
            language=language,
            vector=vector,
            distinct=distinct,
            hybrid=hybrid,
        )

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
        group_by: str | None = None,
        group_size: int = DEFAULT_GROUP_SIZE,
    ) -> list[Hit]:
        """Sentences with a mention of the type ``description`` names, best mention first.

        Mention points are searched and grouped by sentence: each sentence appears once,
        with its best-scoring mention (R-Precision counts sentences, not mentions).

        With ``fuse_with="e5"`` the mention ranking is fused with the sentence vector's
        ranking of the same query (reciprocal rank fusion, qdrant-client's): the entity
        vector knows types, the sentence vector knows the words a type's sentences use,
        and on types the projection never saw the fusion beats both
        (docs/ner-retriever.md). A sentence found only by the sentence vector comes back
        as its sentence point (no ``span``); scores are then fusion scores, not cosines,
        and each hit's ``score_kind`` says so (``rank_fusion``; ``similarity`` otherwise).

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
            group_by: ``"text"``: one hit per distinct mention text instead of per
                sentence ("political party" lists parties, not forty sentences about
                one), its best mention with ``payload["count"]``, the mentions of that
                text among the nearest (at most ``group_size``); not fused. Qdrant's
                search groups on a server, the same grouping done here on Qdrant Edge.
            group_size: Mentions a group keeps, and so the most ``count`` says.

        Raises:
            InvalidArgumentError: ``description`` is blank, ``k`` is below 1, ``vector``
                is not a mention vector, or ``fuse_with`` is not a sentence vector.
        """
        return entities.search_entities(
            self.store,
            self.loaded,
            description,
            k=k,
            language=language,
            entity_type=entity_type,
            vector=vector,
            fuse_with=fuse_with,
            exemplars=exemplars,
            group_by=group_by,
            group_size=group_size,
        )

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
        return demonstrations.demonstrations(
            self.store, self.loaded, text, k=k, language=language, vector=vector
        )

    def router(
        self,
        *,
        vector: str = "lang",
        k: int = DEFAULT_K,
        threshold: float | None = None,
        fallback: str | None = None,
        min_votes: int = DEFAULT_MIN_VOTES,
        index: str | Path | Store | None = None,
        wide: bool = True,
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
            wide: Consult fastText's 176-language identifier beside the vote, so a text
                in a language the index does not hold gets that language (outcome
                ``outside_index``) rather than the nearest indexed one; ``False`` routes
                by the neighbours alone, as RetrieveAll does.
        """
        return router_for(
            self.store,
            self.loaded,
            vector=vector,
            k=k,
            threshold=threshold,
            fallback=fallback,
            min_votes=min_votes,
            index=index,
            wide=wide,
        )

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
        wide: bool = True,
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
            wide=wide,
        )
        return router.route(texts)

    def ner_model(self, adapters: str | Path | None = None, engine: str = "onnx") -> NerEngine:
        """The NER model with the adapters of registry ``adapters`` (built once per path
        and engine; by default the registry ``entivec train lora`` writes).

        Args:
            adapters: The adapter registry directory.
            engine: ``onnx`` (onnxruntime, one graph and LoRA adapter files; needs
                ``entivec export ner``), ``onnx-int8`` (the same with the graph's int8
                weights: 1.4x faster where the CPU has VNNI or AMX, mention F1 within
                .001 of fp32 on WikiANN ``val``) or ``torch`` (PyTorch and PEFT).

        Raises:
            ValueError: An unknown engine.
            AdapterError: No registry, or no ONNX export for the ``onnx`` engine.
        """
        return self.loaded.ner_engine(adapters, engine)

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
        return extraction.extract(model, texts, routes)

    def languages(self) -> list[str]:
        """The distinct ``language`` payloads in the store."""
        return self.store.distinct("language")

    def close(self) -> None:
        """Close the store (and the routing indexes it opened)."""
        self.loaded.close()
        self.store.close()

    def __enter__(self) -> Entivec:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
