"""``entivec plugins`` and ``entivec models list``: what is installed and prepared."""

from __future__ import annotations

import json

import click

from entivec.cli.options import entivec_errors, json_option


@click.group()
def models() -> None:
    """Prepare and list the models entivec runs (converted from PyPI packages)."""


@models.command("list")
@json_option
def models_list(as_json: bool) -> None:
    """The model catalogue and whether each model is prepared."""
    from entivec.models import CATALOGUE, MANIFEST, model_dir

    rows = [
        {
            "name": s.name,
            "package": s.package,
            "architecture": s.architecture,
            "role": s.role,
            "path": str(model_dir(s.name)),
            "prepared": (model_dir(s.name) / MANIFEST).is_file(),
        }
        for s in CATALOGUE.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        mark = "prepared" if row["prepared"] else "not prepared"
        click.echo(f"{row['name']:24} {row['package']:20} {mark:13} {row['path']}")


@click.command()
@json_option
@entivec_errors
def plugins(as_json: bool) -> None:
    """The installed encoder plugins and corpus formats."""
    from entivec.registry import get_registry

    registry = get_registry()
    rows = [
        {
            "name": s.name,
            "vector": s.vector,
            "size": s.size,
            "distance": s.distance,
            "embeds": s.embeds,
            "variants": list(s.variants),
            "artefact": str(artefact) if (artefact := s.artefact()) else None,
            "prepared": artefact is None or artefact.is_file(),
            "description": s.description,
            "build_command": s.build_command,
        }
        for s in registry.encoders
    ]
    if as_json:
        click.echo(json.dumps({"encoders": rows, "formats": registry.formats}, indent=2))
        return
    click.echo(f"{'name':8} {'vector':8} {'size':>5} {'distance':8} {'embeds':8} artefact")
    for r in rows:
        missing = "" if r["prepared"] else f"  (missing: run `{r['build_command']}`)"
        click.echo(
            f"{r['name']:8} {r['vector']:8} {r['size']:>5} {r['distance']:8} {r['embeds']:8} "
            f"{r['artefact'] or '(no model file)'}{missing}"
        )
    click.echo(f"formats: {', '.join(registry.formats)}")


def register_commands(cli: click.Group) -> None:
    """Attach ``plugins`` and ``models`` (``models prepare`` comes with the build wing)."""
    cli.add_command(models)
    cli.add_command(plugins)
