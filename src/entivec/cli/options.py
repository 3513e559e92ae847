"""What the verb modules share: error formatting, common options, corpus arguments."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from entivec.errors import EntivecError, InvalidArgumentError
from entivec.store import ServerOptions

F = TypeVar("F", bound=Callable[..., Any])


def entivec_errors(fn: F) -> F:
    """Turn every error entivec raises on purpose into a one-line message and exit 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EntivecError as exc:
            raise click.ClickException(str(exc).splitlines()[0]) from exc

    return wrapper  # type: ignore[return-value]


STORE_HELP = "A directory (Qdrant Edge) or http(s):// URL."


SERVER_OPTIONS = "entivec.server"


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault(SERVER_OPTIONS, {})[param.name] = value
    return value


def store_option(help: str = STORE_HELP) -> Callable[[F], F]:
    """``--store``, required (``help`` says what it must hold for this verb), and how to
    reach a server: ``--grpc-port``, ``--allow-insecure``, ``--timeout``
    (:func:`server_options` reads them)."""

    def decorate(fn: F) -> F:
        for option in (
            click.option(
                "--timeout",
                type=click.IntRange(1, 3600),
                default=10,
                show_default=True,
                expose_value=False,
                callback=_remember,
                help="With a server: seconds one request may take.",
            ),
            click.option(
                "--allow-insecure",
                is_flag=True,
                expose_value=False,
                callback=_remember,
                help="With a server: send $QDRANT_API_KEY over plain http to a host that is "
                "not loopback.",
            ),
            click.option(
                "--grpc-port",
                type=click.IntRange(1, 65535),
                expose_value=False,
                callback=_remember,
                help="With a server: its gRPC port (default 6334 beside a REST 6333, else REST "
                "only).",
            ),
            click.option("--store", required=True, help=help),
        ):
            fn = option(fn)
        return fn

    return decorate


def server_options() -> ServerOptions:
    """The server options of the running command (see :func:`store_option`)."""
    given = click.get_current_context().meta.get(SERVER_OPTIONS, {})
    return ServerOptions(
        grpc_port=given.get("grpc_port"),
        allow_insecure=bool(given.get("allow_insecure")),
        timeout=int(given.get("timeout") or 10),
    )


def collection_option(default: str = "entivec") -> Callable[[F], F]:
    """``--collection``."""
    return click.option("--collection", default=default, show_default=True)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
language_option = click.option(
    "--language", help="Language of every sentence (default: from each path)."
)
min_votes_option = click.option(
    "--min-votes",
    type=click.IntRange(1, 100),
    default=2,
    show_default=True,
    help="Agreeing neighbours above τ a route needs (at most k).",
)
routing_index_option = click.option(
    "--routing-index",
    help="A store (directory or URL) of labelled `lang` vectors to route by (default: "
    "the collection if it holds them, else the index shipped with the models).",
)
variant_option = click.option(
    "--variant", type=click.Choice(["fp32", "int8"]), default="fp32", show_default=True
)
adapters_option = click.option(
    "--adapters",
    type=click.Path(file_okay=False),
    help="Adapter registry directory (default: the cache's adapters/default).",
)
engine_option = click.option(
    "--engine",
    type=click.Choice(["onnx", "onnx-int8", "torch"]),
    default="onnx",
    show_default=True,
    help="onnxruntime with LoRA adapter files (after `entivec export ner`), its int8 graph "
    "(1.4x faster where the CPU has VNNI or AMX), or PyTorch+PEFT.",
)


plot_option = click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    help="Also draw the result into this image file (PNG, SVG or PDF, by its suffix).",
)


def corpus_arguments(fn: F) -> F:
    """FORMAT and PATHS: corpus files of one format."""
    fn = click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))(fn)
    return click.argument("format")(fn)


def progress(as_json: bool) -> bool | None:
    """Progress bars follow the log level, except under ``--json`` (stdout stays JSON)."""
    return None if not as_json else False


def train_and_dev(
    format: str, paths: tuple[str, ...], dev_paths: tuple[str, ...], language: str | None
) -> tuple[list[Any], list[Any]]:
    from pathlib import Path

    from entivec.loaders import load

    dev_names = {Path(p).name for p in dev_paths}
    leaked = [p for p in paths if Path(p).name in dev_names]
    if leaked:
        # `--dev a/dev.txt b/dev.txt` gives --dev the first file only; the shell's others
        # would silently join the demonstration pool
        raise InvalidArgumentError(
            f"the demonstration pool includes {leaked[0]}, named like a --dev file; "
            "repeat --dev before each dev file (--dev a/dev.txt --dev b/dev.txt)"
        )
    return (
        list(load(format, [Path(p) for p in paths], language=language)),
        list(load(format, [Path(p) for p in dev_paths], language=language)),
    )


def dev_option(help: str) -> Callable[[F], F]:
    """``--dev``, required and repeated: one annotated file each time."""
    return click.option(
        "--dev", "dev_paths", multiple=True, required=True, type=click.Path(dir_okay=False),
        help=help,
    )  # fmt: skip


def demo_corpus_options(fn: F) -> F:
    """FORMAT PATHS (the demonstration pool), --dev and --language."""
    fn = language_option(fn)
    fn = dev_option("Dev sentences: half train the retriever, half are held back (repeatable).")(fn)
    return corpus_arguments(fn)


def integers(option: str, text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"expected comma-separated integers, got {text!r}", param_hint=option
        ) from None
    if not values:
        raise click.BadParameter("expected at least one integer", param_hint=option)
    return values
