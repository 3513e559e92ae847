"""The entity projection shipped with entivec (src/entivec/build/entity/trained/): the
current recipe's on CrossNER's six ``train`` files, installed in place of training, and
what training here gives again."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from entivec.build.entity.shipped import SHIPPED_PROJECTION, shipped_manifest
from entivec.build.entity.train import (
    EntityRecipe,
    dev_mentions_of,
    fingerprints,
    train_entity,
    training_mentions,
)
from entivec.loaders import load
from entivec.models import sha256
from entivec.records import Sentence
from tests.conftest import DATA

DOMAINS = ("ai", "literature", "music", "politics", "science")
# R-Precision of a projection trained again on another CPU (other float rounding)
MAX_R_PRECISION_DIFFERENCE = 0.02


def crossner(split: str, domains: tuple[str, ...]) -> list[Sentence]:
    paths = [DATA / "crossner" / domain / f"{split}.txt" for domain in domains]
    return list(load("conll", paths, language="en"))


@pytest.fixture(scope="module")
def train_and_dev() -> tuple[list[Sentence], list[Sentence]]:
    return crossner("train", (*DOMAINS, "conll2003")), crossner("dev", DOMAINS)


def test_the_shipped_projection_is_the_current_recipes_on_crossner(
    train_and_dev: tuple[list[Sentence], list[Sentence]],
) -> None:
    manifest = shipped_manifest()
    assert manifest is not None, "src/entivec/build/entity/trained/ is missing"
    recipe = EntityRecipe()
    assert manifest["recipe"] == json.loads(json.dumps(asdict(recipe)))
    train, dev = train_and_dev
    expected = fingerprints(training_mentions(train, recipe), dev_mentions_of(dev), recipe)
    assert manifest["fingerprint"] == expected
    assert sha256(SHIPPED_PROJECTION / "projection.safetensors") == manifest["projection_sha256"]


@pytest.mark.models
def test_training_on_the_shipped_mentions_installs_the_shipped_projection(
    tmp_path: Path, train_and_dev: tuple[list[Sentence], list[Sentence]]
) -> None:
    train, dev = train_and_dev
    manifest = train_entity(train, dev, out=tmp_path / "model", show_progress=False)
    assert manifest["installed_from"] == "shipped"
    shipped = SHIPPED_PROJECTION / "projection.safetensors"
    assert sha256(tmp_path / "model" / "projection.safetensors") == sha256(shipped)


@pytest.mark.models
def test_a_projection_trained_again_ranks_types_as_the_shipped_one(
    tmp_path: Path, train_and_dev: tuple[list[Sentence], list[Sentence]]
) -> None:
    train, dev = train_and_dev
    again = train_entity(train, dev, out=tmp_path / "model", force=True, show_progress=False)
    assert "installed_from" not in again
    shipped = shipped_manifest()
    assert shipped is not None
    for kind in ("trained_types", "held_out_types"):
        ours = again["dev_r_precision"]["projected"][kind]
        theirs = shipped["dev_r_precision"]["projected"][kind]
        assert abs(ours - theirs) <= MAX_R_PRECISION_DIFFERENCE, kind
