"""The ``entivec`` command line. Every error entivec raises on purpose becomes a one-line
message on stderr and exit status 1; bad usage exits 2.

The run-time verbs (``plugins``, ``models list``, ``ingest``, ``search``, ``route``,
``extract``) live in this package, one module per verb group. The build wing's verbs
(``models prepare``, ``train``, ``export``) and the lab's (``eval``) attach themselves
through the entry-point group ``entivec.commands``, as a third-party package would, so
this package never imports :mod:`entivec.build` or :mod:`entivec.lab`.
"""

from __future__ import annotations

import logging
import os
import warnings
from importlib import import_module
from importlib.metadata import entry_points

import click

log = logging.getLogger(__name__)

COMMANDS_GROUP = "entivec.commands"
BUILT_IN_COMMANDS = ("entivec.cli.catalogue", "entivec.cli.ingest", "entivec.cli.query")


@click.group()
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or info messages.")
def cli(verbose: int, quiet: bool) -> None:
    """Qdrant plugins for multilingual, NER-annotated corpora."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("entivec").setLevel(level)
    # libraries that lower their own logger's level at import (bm25s sets DEBUG) still
    # reach the terminal only with warnings: -v is about entivec's messages
    for handler in logging.getLogger().handlers:
        handler.addFilter(_entivec_or_warning)
    # a server that cannot be reached fails its first request with a one-line error;
    # qdrant-client's version check, on a thread of its own, would warn before it
    warnings.filterwarnings("ignore", message="Failed to obtain server version")
    # a bad $ENTIVEC_THREADS is refused before any verb starts work, not when a model loads
    if os.environ.get("ENTIVEC_THREADS", "").strip():
        from entivec.cli.options import entivec_errors
        from entivec.onnx_sessions import default_threads

        entivec_errors(default_threads)()


def _entivec_or_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name.split(".")[0] == "entivec"


def register_commands(group: click.Group) -> None:
    """Attach the built-in verbs, then every ``entivec.commands`` entry point's, in name order."""
    for module in BUILT_IN_COMMANDS:
        import_module(module).register_commands(group)
    for point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda p: p.name):
        log.debug("loading commands %s from %s", point.name, point.value)
        try:
            register = point.load()
        except ImportError as exc:
            # one broken package must not take every other verb down with it
            log.warning("commands %r (%s) not loaded: %s", point.name, point.value, exc)
            continue
        register(group)


register_commands(cli)


def main() -> None:
    """Console entry point."""
    cli.main(standalone_mode=True)
