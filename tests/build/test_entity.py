"""The entity plugin: the shipped ONNX graph, mention points, and type search."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from entivec.api import Entivec
from entivec.cli import cli
from entivec.errors import InvalidArgumentError
from entivec.ingest.pipeline import IngestReport
from entivec.loaders import load
from entivec.mentions import SpanInput, mentions_of
from entivec.models import artefact_dir, model_dir, read_manifest
from entivec.query.language_model import LanguageModel
from entivec.store import Hit
from entivec.store.edge import EdgeStore

POLITICS_SENTENCES = 120


@pytest.fixture(scope="module")
def politics(data_dir: Path) -> Path:
    return data_dir / "crossner" / "politics" / "dev.txt"


@contextmanager
def entivec_with(store: Path, **encoders: object) -> Iterator[Entivec]:
    """An Entivec on ``store`` that uses the session's already loaded encoders."""
    with Entivec(store) as ev:
        ev.loaded.encoders.update(encoders)  # type: ignore[arg-type]
        yield ev


def ingest_politics(ev: Entivec, politics: Path, plugins: tuple[str, ...]) -> IngestReport:
    report, _ = ev.ingest(
        "conll", [politics], plugins=plugins, language="en", limit=POLITICS_SENTENCES,
        window=40, batch_size=32, show_progress=False,
    )  # fmt: skip
    return report


def test_the_graph_matches_pytorch_and_computes_only_the_blocks_it_needs(
    entity_encoder: object, politics: Path
) -> None:
    from entivec.build.entity.export import load_projection
    from entivec.build.entity.train import concatenated, project, training_dir
    from entivec.build.entity.value_vectors import ValueVectorExtractor
    from entivec.mentions import query_input

    manifest = read_manifest(artefact_dir("entity"))
    blocks = manifest["blocks"]
    assert manifest["checks"]["blocks_computed"] == max(blocks) + 1 < 30
    sentences = list(load("conll", [politics], language="en", limit=20))
    mentions = mentions_of(sentences)
    names = ["political party", "politician"]
    onnx = entity_encoder.embed_mentions([m.input for m in mentions])  # type: ignore[attr-defined]
    onnx_queries = entity_encoder.embed_queries(names)  # type: ignore[attr-defined]
    projection, _ = load_projection(training_dir() / "model")
    extractor = ValueVectorExtractor(model_dir(manifest["source_model"]), blocks)

    def reference(items: list[SpanInput], queries: bool) -> np.ndarray:
        values = concatenated(extractor.encode(items), blocks)
        vectors = project(projection, values, queries=queries)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    assert float((onnx * reference([m.input for m in mentions], False)).sum(1).min()) >= 0.999
    query_reference = reference([query_input(n) for n in names], True)
    assert float((onnx_queries * query_reference).sum(1).min()) >= 0.999
    # a query is not embedded as a mention of the same words would be: it gets the shift
    as_mentions = entity_encoder.embed_mentions([query_input(n) for n in names])  # type: ignore[attr-defined]
    assert float((onnx_queries * as_mentions).sum(1).max()) < 0.99
    # the mentions of one sentence share a forward pass yet get their own vectors
    assert len({tuple(np.round(v, 4)) for v in onnx}) == len(mentions)


def test_mention_points_carry_their_type_and_offsets_and_are_not_duplicated(
    tmp_path: Path, politics: Path, entity_encoder: object, e5_encoder: object
) -> None:
    with entivec_with(tmp_path / "store", entity=entity_encoder, e5=e5_encoder) as ev:
        report = ingest_politics(ev, politics, ("e5", "entity"))
        mentions = mentions_of(load("conll", [politics], language="en", limit=POLITICS_SENTENCES))
        assert report.mentions == len(mentions)
        assert report.points == POLITICS_SENTENCES + len(mentions)
        again = ingest_politics(ev, politics, ("e5", "entity"))
        assert (again.points, again.mentions, again.skipped) == (
            report.points,
            0,
            POLITICS_SENTENCES,
        )
    with EdgeStore(tmp_path / "store", collection="entivec") as store:
        points = [p for p in store.points() if "entity" in p.vectors]
    assert len(points) == len(mentions)
    for point in points:
        payload = point.payload
        span = payload["span"]
        assert payload["sentence_text"][span["start"] : span["end"]] == payload["text"]
        assert payload["entity_type"] and payload["language"] == "en"
        assert set(point.vectors) == {"entity"}


def test_a_type_query_finds_sentences_with_such_mentions_once_each(
    tmp_path: Path, politics: Path, entity_encoder: object, e5_encoder: object
) -> None:
    with entivec_with(tmp_path / "store", entity=entity_encoder, e5=e5_encoder) as ev:
        ingest_politics(ev, politics, ("entity",))
        hits = ev.search_entities("political party", k=10)
        assert len({h.payload["sentence_id"] for h in hits}) == 10
        assert sum(h.payload["entity_type"] == "politicalparty" for h in hits) >= 7
        only = ev.search_entities("political party", k=5, entity_type="election")
        assert {h.payload["entity_type"] for h in only} == {"election"}
        with pytest.raises(InvalidArgumentError, match="search_sentences"):
            ev.search_entities("political party", vector="e5")
    for expand in ([], ["--exemplars"]):
        result = CliRunner().invoke(
            cli, ["search", "politician", "--store", str(tmp_path / "store"), "--vector", "entity",
                  "-k", "3", *expand],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert len(result.output.splitlines()) == 3
        assert " in: " in result.output


def test_fusing_with_e5_ranks_each_sentence_either_search_finds_once(
    tmp_path: Path, politics: Path, entity_encoder: object, e5_encoder: object
) -> None:
    with entivec_with(tmp_path / "store", entity=entity_encoder, e5=e5_encoder) as ev:
        ingest_politics(ev, politics, ("e5", "entity"))
        deep = ev.search_entities("political party", k=30) + ev.search_sentences(
            "political party", k=30
        )
        fused = ev.search_entities("political party", k=10, fuse_with="e5")
        sentence_ids = [h.payload["sentence_id"] for h in fused]
        assert len(set(sentence_ids)) == 10
        assert set(sentence_ids) <= {h.payload["sentence_id"] for h in deep}
        assert [h.score for h in fused] == sorted((h.score for h in fused), reverse=True)

        def types_of(hit: Hit) -> set[str]:
            # a mention point names its type; a sentence point lists its sentence's types
            found = hit.payload["entity_type"]
            return {found} if isinstance(found, str) else set(found)

        assert sum("politicalparty" in types_of(h) for h in fused) >= 7
        only = ev.search_entities("political party", k=5, entity_type="election", fuse_with="e5")
        assert len(only) == 5 and all("election" in types_of(h) for h in only)
        with pytest.raises(InvalidArgumentError, match="sentence vector"):
            ev.search_entities("political party", fuse_with="entity")

        def ids(hits: list[Hit]) -> list[str]:
            return [h.id for h in hits]

        # the default: a trained type's name alone, any other name fused with e5
        trained, held_out = "political party", "politician"
        assert ids(ev.search_entities(trained)) == ids(ev.search_entities(trained, fuse_with=None))
        assert ids(ev.search_entities(held_out)) == ids(
            ev.search_entities(held_out, fuse_with="e5")
        )
        assert ids(ev.search_entities(held_out)) != ids(
            ev.search_entities(held_out, fuse_with=None)
        )
    store = str(tmp_path / "store")
    alone = CliRunner().invoke(
        cli, ["search", "politician", "--store", store, "--vector", "entity", "--fuse-with",
              "none", "-k", "3"],
    )  # fmt: skip
    assert alone.exit_code == 0 and alone.output.count(" in: ") == 3
    result = CliRunner().invoke(
        cli, ["search", "party", "--store", store, "--vector", "entity", "--fuse-with", "e5",
              "-k", "4"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # a fused list says its scores are ranks fused, not cosines, then gives its four hits
    header, *hits = result.output.splitlines()
    assert header.startswith("scores: reciprocal rank fusion") and len(hits) == 4
    result = CliRunner().invoke(cli, ["search", "party", "--store", store, "--fuse-with", "e5"])
    assert result.exit_code != 0
    assert result.output.startswith("Error:") and "not an entity vector" in result.output


def test_the_retrieval_eval_scores_every_method_on_the_same_types(
    tmp_path: Path, politics: Path, entity_encoder: object, e5_encoder: object, lm: LanguageModel
) -> None:
    from entivec.lab.entity_retrieval import evaluate_entity_retrieval
    from entivec.query.exemplars import ExemplarWriter

    subset = tmp_path / "politics-dev.txt"
    blocks = politics.read_text(encoding="utf-8").strip().split("\n\n")
    subset.write_text("\n\n".join(blocks[:POLITICS_SENTENCES]) + "\n", encoding="utf-8")
    with entivec_with(tmp_path / "store", entity=entity_encoder, e5=e5_encoder) as ev:
        ev.loaded.exemplar_writer = ExemplarWriter(lm)
        result = evaluate_entity_retrieval(
            ev, "conll", [subset], language="en", raw_blocks=False, show_progress=False
        )
    assert result["sentences"] == POLITICS_SENTENCES
    assert "politician" in result["held_out_types"]
    methods = result["methods"]
    assert set(methods) == {
        "entity (store)",
        "e5 sentences (store)",
        "entity + e5, fused (store)",
        "entity + exemplars (store)",
        "entity + exemplars + e5, fused (store)",
        "e5 + BM25 sentences, hybrid (store)",
        "search_entities default (store)",
        "BM25 (bm25s)",
    }
    for row in methods.values():
        assert set(row["per_type"]) == set(result["relevant_sentences"])
        assert all(0.0 <= v <= 1.0 for v in row["per_type"].values())
    # the trained projection is the point of the plugin: far above keyword search
    assert methods["entity (store)"]["trained_types"] > methods["BM25 (bm25s)"]["trained_types"]
    # `politician` is held out; keyword search cannot find it by its name
    for method in ("entity (store)", "entity + exemplars (store)"):
        assert methods[method]["held_out_types"] > methods["BM25 (bm25s)"]["held_out_types"]


@pytest.mark.models
def test_the_geometry_term_keeps_the_raw_structure_the_triplet_loss_discards(
    politics: Path,
) -> None:
    from dataclasses import replace

    from entivec.build.entity.train import (
        EntityRecipe,
        concatenated,
        project,
        query_features,
        train_projection,
    )
    from entivec.build.entity.value_vectors import ValueVectorExtractor
    from entivec.loaders.crossner import NOT_A_QUERY

    recipe = replace(EntityRecipe(), epochs=15)
    mentions = [
        m
        for m in mentions_of(load("conll", [politics], language="en", limit=60))
        if m.span.type not in NOT_A_QUERY
    ]
    labels = [m.span.type for m in mentions]
    anchor_labels = sorted(set(labels))
    extractor = ValueVectorExtractor(model_dir(recipe.model), recipe.blocks)
    values = concatenated(
        extractor.encode([m.input for m in mentions], show_progress=False), recipe.blocks
    )
    anchors = query_features(anchor_labels, recipe)
    raw = (values - values.mean(0)) / (values.std(0) + 1e-6)

    def kept_structure(geometry_weight: float) -> float:
        """Correlation of the mention-to-mention cosines after and before projecting."""
        trained = replace(recipe, geometry_weight=geometry_weight)
        projection = train_projection(
            values, labels, anchors, anchor_labels, trained, show_progress=False
        )
        after, before = (
            x / np.linalg.norm(x, axis=1, keepdims=True) for x in (project(projection, values), raw)
        )
        upper = np.triu_indices(len(values), 1)
        return float(np.corrcoef((after @ after.T)[upper], (before @ before.T)[upper])[0, 1])

    assert len(anchor_labels) >= 4
    with_term, without = kept_structure(recipe.geometry_weight), kept_structure(0.0)
    assert with_term > without + 0.05, (with_term, without)
