"""The entity plugin: the shipped ONNX graph, mention points, and type search."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from entivec.loaders import load

from entivec.api import Entivec
from entivec.cli import cli
from entivec.edge_store import EdgeStore
from entivec.errors import InvalidArgumentError
from entivec.ingest import IngestReport
from entivec.models import artefact_dir, model_dir, read_manifest
from entivec.value_vectors import mentions_of

POLITICS_SENTENCES = 120


@pytest.fixture(scope="module")
def entity_encoder() -> object:
    from entivec.plugins.entity import load as load_entity

    if not (artefact_dir("entity") / "model.onnx").is_file():
        pytest.fail("the entity plugin is not trained: ./run test trains it (see the README)")
    return load_entity()


@pytest.fixture(scope="module")
def politics(data_dir: Path) -> Path:
    return data_dir / "crossner" / "politics" / "dev.txt"


@contextmanager
def entivec_with(store: Path, **encoders: object) -> Iterator[Entivec]:
    """An Entivec on ``store`` that uses the session's already loaded encoders."""
    with Entivec(store) as ev:
        ev._encoders.update(encoders)  # type: ignore[arg-type]
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
    from entivec.encoders.entity_export import load_projection
    from entivec.encoders.entity_train import project, training_dir

    from entivec.value_vectors import ValueVectorExtractor

    manifest = read_manifest(artefact_dir("entity"))
    block = manifest["block"]
    assert manifest["checks"]["blocks_computed"] == block + 1 < 30
    sentences = list(load("conll", [politics], language="en", limit=20))
    mentions = mentions_of(sentences)
    onnx = entity_encoder.embed_mentions([m.input for m in mentions])  # type: ignore[attr-defined]
    projection, _ = load_projection(training_dir() / "model")
    extractor = ValueVectorExtractor(model_dir(manifest["source_model"]), [block])
    reference = project(projection, extractor.encode([m.input for m in mentions])[block])
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    assert float((onnx * reference).sum(1).min()) >= 0.999
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
    result = CliRunner().invoke(
        cli, ["search", "politician", "--store", str(tmp_path / "store"), "--vector", "entity",
              "-k", "3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 3
    assert " in: " in result.output


def test_the_geometry_term_keeps_the_raw_structure_the_triplet_loss_discards(
    politics: Path,
) -> None:
    from dataclasses import replace

    from entivec.encoders.entity_train import (
        EntityRecipe,
        project,
        query_features,
        train_projection,
    )

    from entivec.entity_types import NOT_A_QUERY
    from entivec.value_vectors import ValueVectorExtractor

    recipe = replace(EntityRecipe(), epochs=15)
    mentions = [
        m
        for m in mentions_of(load("conll", [politics], language="en", limit=60))
        if m.span.type not in NOT_A_QUERY
    ]
    labels = [m.span.type for m in mentions]
    anchor_labels = sorted(set(labels))
    extractor = ValueVectorExtractor(model_dir(recipe.model), [recipe.block])
    values = extractor.encode([m.input for m in mentions], show_progress=False)[recipe.block]
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
