"""Plugins come from the entry-point group, the built-ins through the same path."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from entivec.cli import cli
from entivec.errors import PluginRegistrationError, UnknownPluginError
from entivec.registry import ENTRY_POINT_GROUP, Encoder, EncoderSpec, Registry, get_registry


def _never_loaded(**_: Any) -> Encoder:
    raise AssertionError("registering or listing a plugin must not load it")


def _spec(name: str = "toy", vector: str = "toy") -> EncoderSpec:
    return EncoderSpec(
        name=name,
        vector=vector,
        size=4,
        distance="cosine",
        embeds="sentence",
        artefact=lambda: Path("/nowhere"),
        load=_never_loaded,
    )


def test_builtins_are_registered_through_entry_points() -> None:
    names = {p.name for p in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"e5", "formats"} <= names
    registry = get_registry()
    assert "e5" in [s.name for s in registry.encoders]
    assert registry.formats == ["conll", "jsonl", "lines", "text", "wikiann"]
    spec = registry.encoder("e5")
    assert (spec.vector, spec.size, spec.distance, spec.embeds) == ("e5", 384, "cosine", "sentence")


def test_a_third_party_register_function_adds_an_encoder() -> None:
    registry = Registry()
    registry.add_encoder(_spec())
    assert registry.encoder_for_vector("toy").name == "toy"


@pytest.mark.parametrize("name", ["Toy", "toy-1", "", "1toy"])
def test_names_are_checked_at_registration(name: str) -> None:
    with pytest.raises(PluginRegistrationError, match="lower-case"):
        Registry().add_encoder(_spec(name=name))


def test_duplicates_fail_at_registration() -> None:
    registry = Registry()
    registry.add_encoder(_spec())
    with pytest.raises(PluginRegistrationError, match="twice"):
        registry.add_encoder(_spec())
    with pytest.raises(PluginRegistrationError, match="vector name 'toy'"):
        registry.add_encoder(_spec(name="other"))


def test_unknown_names_list_the_valid_choices() -> None:
    # the lists name every installed choice, so a typo is one glance from its fix
    with pytest.raises(UnknownPluginError, match=r"installed: ([\w]+, )*e5\b"):
        get_registry().encoder("e6")
    with pytest.raises(UnknownPluginError, match=r"vectors: ([\w]+, )*e5\b"):
        get_registry().encoder_for_vector("nope")


def test_plugins_command_lists_name_vector_size_distance_artefact() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    (e5,) = [r for r in json.loads(result.output)["encoders"] if r["name"] == "e5"]
    assert (e5["vector"], e5["size"], e5["distance"]) == ("e5", 384, "cosine")
    assert e5["artefact"].endswith("model.onnx")
    text = CliRunner().invoke(cli, ["plugins"]).output
    assert "e5" in text and "384" in text and "cosine" in text


def test_a_size_must_match_dense_or_sparse() -> None:
    from dataclasses import replace

    with pytest.raises(PluginRegistrationError, match="positive for a dense vector"):
        Registry().add_encoder(replace(_spec(), size=0))
    with pytest.raises(PluginRegistrationError, match="0 for a sparse one"):
        Registry().add_encoder(replace(_spec(), sparse=True))
    Registry().add_encoder(replace(_spec(), size=0, sparse=True))


def test_bm25_is_built_in_with_no_model_file() -> None:
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    (bm25,) = [r for r in json.loads(result.output)["encoders"] if r["name"] == "bm25"]
    assert (bm25["vector"], bm25["size"], bm25["artefact"], bm25["prepared"]) == (
        "bm25", 0, None, True,
    )  # fmt: skip
    encoder = get_registry().encoder("bm25").load()
    cats, dogs = encoder.embed_passages(["The cats sat", "dogs"])
    (query,) = encoder.embed_queries(["CATS"])
    assert set(query.indices) <= set(cats.indices)  # lower-cased, same tokens
    assert not set(query.indices) & set(dogs.indices)
    assert list(cats.indices) == sorted(cats.indices) and len(cats.indices) == 3  # no stop words
