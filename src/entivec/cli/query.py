"""``entivec search``, ``route`` and ``extract``: the query layer from the shell."""

from __future__ import annotations

import json

import click

from entivec.annotation.langid import IDENTIFIERS
from entivec.cli.options import (
    adapters_option,
    collection_option,
    engine_option,
    entivec_errors,
    json_option,
    min_votes_option,
    routing_index_option,
    server_options,
    store_option,
    variant_option,
)
from entivec.errors import InvalidArgumentError


@click.command()
@click.argument("text")
@store_option()
@collection_option()
@click.option("--vector", default="e5", show_default=True, help="Named vector to search.")
@click.option(
    "--fuse-with",
    metavar="VECTOR",
    help="With a mention vector: fuse its ranking with this sentence vector's; 'none' for "
    "the mentions alone. Default: e5 when the store holds it, unless TEXT is a type name "
    "the entity projection was trained on.",
)
@click.option(
    "--exemplars",
    is_flag=True,
    help="With a mention vector: add instances of the type written by SmolLM2 to the query.",
)
@click.option(
    "--group-by",
    type=click.Choice(["text"]),
    help="With a mention vector: one hit per distinct mention text, with its count.",
)
@click.option(
    "--hybrid",
    is_flag=True,
    help="With a sentence vector: fuse its ranking with BM25's (needs --plugin bm25 at ingest).",
)
@click.option("--language", help="Only sentences with this language payload.")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--duplicates",
    is_flag=True,
    help="With a sentence vector: also show hits whose text an earlier hit already has.",
)
@variant_option
@json_option
@entivec_errors
def search(
    text: str,
    store: str,
    collection: str,
    vector: str,
    fuse_with: str | None,
    exemplars: bool,
    group_by: str | None,
    hybrid: bool,
    language: str | None,
    k: int,
    duplicates: bool,
    variant: str,
    as_json: bool,
) -> None:
    """Search STORE for sentences near TEXT (any language), each text once.

    ``--hybrid`` fuses the sentence vector's ranking with BM25's (the engine's reciprocal
    rank fusion), which helps when the words themselves matter: names, codes, rare terms.

    With a mention vector (``--vector entity``), TEXT names an entity type
    ("political party") and the hits are sentences with such a mention, one per sentence.
    That ranking is fused with the e5 sentence ranking when the store holds e5 and TEXT
    is not a type the entity projection was trained on (better on every held-out set
    measured; ``--fuse-with none`` turns it off), and ``--exemplars`` adds to the query a
    few instances of the type that SmolLM2 writes. ``--group-by text`` lists each
    distinct mention once ("political party": the parties) with how often it was found.
    With ``--vector demo``, TEXT is an input with one mention in brackets ("Blair led
    [Labour] to victory.") and the hits are the mentions to show the LM as demonstrations.
    """
    from entivec.api import Entivec
    from entivec.registry import get_registry

    mentions = get_registry().encoder_for_vector(vector).embeds == "mention"
    if hybrid and mentions:
        raise InvalidArgumentError(
            f"--hybrid is for a sentence search; {vector!r} is a mention vector"
        )
    for flag, given in (
        ("--fuse-with", fuse_with),
        ("--exemplars", exemplars),
        ("--group-by", group_by),
    ):
        if given and (vector == "demo" or not mentions):
            raise InvalidArgumentError(
                f"{flag} is for an entity-type search; {vector!r} is not an entity vector"
            )
    with Entivec(store, collection=collection, server=server_options(), variant=variant) as ev:
        if vector == "demo":
            hits = ev.demonstrations(text, k=k, language=language, vector=vector)
        elif mentions:
            hits = ev.search_entities(
                text,
                k=k,
                language=language,
                vector=vector,
                fuse_with={None: "auto", "none": None}.get(fuse_with, fuse_with),
                exemplars=exemplars,
                group_by=group_by,
            )
        else:
            hits = ev.search_sentences(
                text,
                k=k,
                language=language,
                vector=vector,
                distinct=not duplicates,
                hybrid=hybrid,
            )
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"id": h.id, "score": h.score, "score_kind": h.score_kind, **h.payload}
                    for h in hits
                ]
            )
        )
        return
    if any(h.score_kind == "rank_fusion" for h in hits):
        # fused scores are 1 / (constant + rank) summed: a scale of their own
        click.echo("scores: reciprocal rank fusion of two rankings, not similarities")
    for h in hits:
        if "span" in h.payload:
            count = f" ×{h.payload['count']}" if "count" in h.payload else ""
            click.echo(
                f"{h.score:.3f}  [{h.payload.get('language', '?')}] "
                f"{h.payload.get('text', '')!r}{count} ({h.payload.get('entity_type', '')}) "
                f"in: {h.payload.get('sentence_text', '')}"
            )
            continue
        types = ",".join(h.payload.get("entity_type", []))
        click.echo(
            f"{h.score:.3f}  [{h.payload.get('language', '?')}] {h.payload.get('text', '')}"
            + (f"  ({types})" if types else "")
        )


@click.command()
@click.argument("texts", nargs=-1, required=True)
@store_option()
@collection_option()
@click.option("--vector", default="lang", show_default=True, help="Named vector to route by.")
@click.option("-k", "k", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--threshold", type=float, help="τ (default: the vector's calibrated one).")
@min_votes_option
@routing_index_option
@click.option(
    "--fallback",
    type=click.Choice(list(IDENTIFIERS)),
    help="Answer with this library when the neighbours cannot decide.",
)
@click.option(
    "--vote-only",
    is_flag=True,
    help="The neighbours' vote alone, as RetrieveAll routes: no wide identifier to name "
    "languages the index does not hold.",
)
@json_option
@entivec_errors
def route(
    texts: tuple[str, ...],
    store: str,
    collection: str,
    vector: str,
    k: int,
    threshold: float | None,
    min_votes: int,
    routing_index: str | None,
    fallback: str | None,
    vote_only: bool,
    as_json: bool,
) -> None:
    """The language of each TEXT: the mode of its neighbours' `language` payloads, or the
    language fastText names when the index does not hold it."""
    from entivec.api import Entivec

    with Entivec(store, collection=collection, server=server_options()) as ev:
        routes = ev.route(
            texts,
            vector=vector,
            k=k,
            threshold=threshold,
            fallback=fallback,
            min_votes=min_votes,
            index=routing_index,
            wide=not vote_only,
        )
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in routes], ensure_ascii=False))
        return
    for r in routes:
        if r.routed:
            how = f"{r.confidence:.0%} of {r.kept} neighbours"
        else:
            how = r.outcome.replace("_", " ") + (f", {r.source} says so" if r.source else "")
        click.echo(f"{r.language or 'unrouted':8} ({how})  {r.text}")


@click.command()
@click.argument("texts", nargs=-1, required=True)
@store_option("Holds the sentences routing retrieves from.")
@collection_option()
@adapters_option
@routing_index_option
@json_option
@engine_option
@entivec_errors
def extract(
    texts: tuple[str, ...],
    store: str,
    collection: str,
    adapters: str | None,
    routing_index: str | None,
    engine: str,
    as_json: bool,
) -> None:
    """Entities in each TEXT, with the LoRA adapter of the language it is routed to."""
    from entivec.api import Entivec

    with Entivec(store, collection=collection, server=server_options()) as ev:
        # adapters None: the default registry, loaded (and checked) before the router
        results = ev.extract(texts, adapters=adapters, engine=engine, index=routing_index)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], ensure_ascii=False))
        return
    for r in results:
        if r.routed:
            how = f"{r.language}, {r.confidence:.0%}"
        else:
            how = f"{r.language}, not routed" if r.language else "unrouted"
        entities = "; ".join(f"{e.text} [{e.type}]" for e in r.entities) or "no entities"
        click.echo(f"{r.adapter:6} ({how})  {r.text}\n        {entities}")


def register_commands(cli: click.Group) -> None:
    """Attach ``search``, ``route`` and ``extract``."""
    for command in (search, route, extract):
        cli.add_command(command)
