"""The CLI's verbs: the run-time ones built in, the build wing's and the lab's attached
through the ``entivec.commands`` entry points as a third-party package's would be."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points

import click
import pytest

import entivec.cli
from entivec.cli import COMMANDS_GROUP, cli, register_commands


def test_the_wings_attach_through_entry_points() -> None:
    points = {p.name: p.value for p in entry_points(group=COMMANDS_GROUP)}
    assert points["build"].startswith("entivec.build.")
    assert points["eval"].startswith("entivec.lab.")
    assert {"train", "export", "eval", "ingest", "search", "route", "extract"} <= set(cli.commands)
    models = cli.commands["models"]
    assert isinstance(models, click.Group) and {"list", "prepare"} <= set(models.commands)


def test_a_broken_commands_package_leaves_the_others_working(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken = EntryPoint("broken", "entivec_no_such_package.cli:register", COMMANDS_GROUP)
    real = list(entry_points(group=COMMANDS_GROUP))
    monkeypatch.setattr(entivec.cli, "entry_points", lambda group: [broken, *real])
    group = click.Group("entivec")
    with caplog.at_level(logging.WARNING, logger="entivec.cli"):
        register_commands(group)
    assert "commands 'broken'" in caplog.text and "not loaded" in caplog.text
    assert {"search", "train", "eval"} <= set(group.commands)
