"""``entivec eval languages``: routing with and without the wide identifier, on written
sentences of the index's languages and of others.

Apart from :mod:`entivec.lab.languages`, which imports the build wing at load; the
evaluation is imported only when the verb runs.
"""

from __future__ import annotations

import json

import click

from entivec.cli.options import corpus_arguments, entivec_errors, json_option, routing_index_option


@click.command("languages")
@corpus_arguments
@click.option(
    "--outside",
    default="fr,it,pt,cs,tr",
    show_default=True,
    help="Languages the index does not hold, comma-separated, read from gettext catalogs.",
)
@click.option(
    "--locale-dir",
    type=click.Path(file_okay=False),
    default="/usr/share/locale",
    show_default=True,
    help="Where the gettext catalogs are (<lang>/LC_MESSAGES/*.mo).",
)
@click.option("--limit", type=click.IntRange(min=1), default=500, show_default=True)
@routing_index_option
@json_option
@entivec_errors
def eval_languages(
    format: str,
    paths: tuple[str, ...],
    outside: str,
    locale_dir: str,
    limit: int,
    routing_index: str | None,
    as_json: bool,
) -> None:
    """Each written sentence routed on its own, with fastText's wide identifier and by
    the vote alone: the share named right, wrong, or not at all, per language."""
    import tempfile
    from pathlib import Path

    from entivec.api import Entivec
    from entivec.lab.languages import evaluate_languages

    with tempfile.TemporaryDirectory() as scratch, Entivec(scratch) as ev:
        result = evaluate_languages(
            ev,
            format,
            [Path(p) for p in paths],
            outside=[code.strip() for code in outside.split(",") if code.strip()],
            locale_dir=Path(locale_dir),
            limit=limit,
            routing_index=routing_index,
        )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(
        f"{'language':9}{'n':>6}   {'with the wide identifier':>26}   {'the vote alone':>26}"
    )
    click.echo(
        f"{'':15}   {'right':>8}{'wrong':>9}{'null':>9}   {'right':>8}{'wrong':>9}{'null':>9}"
    )
    for language, row in result["by_language"].items():
        cells = "   ".join(
            f"{row[name]['right']:>8.3f}{row[name]['wrong']:>9.3f}{row[name]['null']:>9.3f}"
            for name in ("with the wide identifier", "the vote alone")
        )
        click.echo(f"{language:9}{row['sentences']:>6}   {cells}")
