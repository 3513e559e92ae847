"""The lab's verbs, ``entivec eval ...``: every paper reproduction and its baselines.

Attached to the CLI through the ``entivec.commands`` entry point, so the run-time CLI never
imports :mod:`entivec.lab`. Each verb lives in the lab module of its evaluation, or in a
``cli_<verb>`` module beside it where that module's imports are heavy: this one only
gathers them, and is loaded on every ``entivec`` run.
"""

from __future__ import annotations

import click

from entivec.lab.cli_annotate import eval_annotate
from entivec.lab.cli_demos import eval_demo_formats, eval_demos
from entivec.lab.cli_entity_sets import eval_entity_sets
from entivec.lab.cli_languages import eval_languages
from entivec.lab.cli_layers import eval_layers
from entivec.lab.cli_ner import eval_ner
from entivec.lab.cli_routing import eval_routing
from entivec.lab.cli_written import eval_written
from entivec.lab.cli_xling import eval_xling
from entivec.lab.entity_retrieval import eval_entity_retrieval
from entivec.lab.segmentation import eval_segmentation
from entivec.lab.words import eval_words

VERBS: tuple[click.Command, ...] = (
    eval_routing,
    eval_layers,
    eval_entity_sets,
    eval_entity_retrieval,
    eval_xling,
    eval_ner,
    eval_demo_formats,
    eval_demos,
    eval_annotate,
    eval_segmentation,
    eval_written,
    eval_words,
    eval_languages,
)


@click.group("eval")
def evaluate() -> None:
    """Measure entivec against baselines on labelled data."""


for verb in VERBS:
    evaluate.add_command(verb)


def register_commands(cli: click.Group) -> None:
    """Attach ``eval`` and its verbs."""
    cli.add_command(evaluate)
