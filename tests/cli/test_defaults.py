"""The CLI imports the library lazily (so `entivec --help` stays fast) and therefore
repeats some library defaults as literals; these tests keep the two from drifting."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import click
import pytest

from entivec.build.demo.scores import ScoringBudget
from entivec.build.e5_xling.train import train_e5_xling
from entivec.build.ner.train import train_lora
from entivec.cli import cli
from entivec.lab.demos import compare_formats, evaluate_demos
from entivec.lab.layer_sweep import layer_sweep


def _library_defaults(target: Callable[..., Any] | type) -> dict[str, Any]:
    if dataclasses.is_dataclass(target):
        return {f.name: f.default for f in dataclasses.fields(target)}
    return {
        name: p.default
        for name, p in inspect.signature(target).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _as_library_value(cli_default: Any, library_default: Any) -> Any:
    """A comma-separated CLI string stands for a tuple of the library's element type."""
    if isinstance(cli_default, str) and isinstance(library_default, tuple):
        kind = type(library_default[0])
        return tuple(kind(part) for part in cli_default.split(","))
    return cli_default


@pytest.mark.parametrize(
    ("command_path", "target"),
    [
        (("train", "demo-scores"), ScoringBudget),
        (("train", "e5"), train_e5_xling),
        (("train", "lora"), train_lora),
        (("eval", "demos"), evaluate_demos),
        (("eval", "demo-formats"), compare_formats),
        (("eval", "layers"), layer_sweep),
    ],
)
def test_cli_option_defaults_match_the_library(
    command_path: tuple[str, ...], target: Callable[..., Any] | type
) -> None:
    command: click.Command = cli
    for name in command_path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    library = _library_defaults(target)
    shared = [
        p
        for p in command.params
        if isinstance(p, click.Option) and p.name in library and p.show_default
    ]
    assert shared, f"{' '.join(command_path)} shares no option with {target.__name__}"
    for option in shared:
        assert option.name is not None
        expected = library[option.name]
        assert _as_library_value(option.default, expected) == expected, (
            f"entivec {' '.join(command_path)} --{option.name.replace('_', '-')} "
            f"defaults to {option.default!r}, the library to {expected!r}"
        )
