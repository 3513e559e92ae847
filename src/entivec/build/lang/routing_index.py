"""The routing index shipped with the models: labelled ``lang`` vectors to vote with.

Routing takes the ``language`` payloads of a text's nearest stored sentences, so a
collection of raw text has nothing to vote with. The index is an ordinary Qdrant Edge
store (collection ``entivec``) holding the ``lang`` vectors and ``language`` payloads of
labelled sentences, by default the six WikiANN ``train`` splits the vector is trained
on. It is built into a temporary folder and renamed into place, and rebuilt only when
its files or the ``lang`` vector change (its manifest records both); an index that is up
to date but was built by an older entivec gains the keyword indexes it lacks.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from entivec.api import Entivec
from entivec.errors import StoreLockedError
from entivec.models import MANIFEST, routing_index_dir, sha256
from entivec.registry import get_registry

log = logging.getLogger(__name__)


def build_routing_index(
    format: str,
    paths: list[Path],
    *,
    language: str | None = None,
    out: Path | None = None,
    force: bool = False,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Ingest the labelled ``paths`` with the ``lang`` plugin into the routing index.

    Returns:
        The index's manifest: the ``lang`` vector's version, the files' checksums, the
        sentences per language.
    """
    final = out or routing_index_dir()
    sources = {str(Path(p).resolve()): sha256(Path(p)) for p in paths}
    encoder = get_registry().encoder("lang").load()
    wanted = {"lang": str(getattr(encoder, "version", "")), "sources": sources}
    manifest_path = final / MANIFEST
    if not force and manifest_path.is_file():
        existing: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        if all(existing.get(k) == v for k, v in wanted.items()):
            log.info("the routing index is built (%s)", final)
            _add_keyword_indexes(final)
            return existing
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    with Entivec(tmp) as ev:
        report, _ = ev.ingest(
            format, paths, plugins=("lang",), language=language, show_progress=show_progress
        )
        counts = {lang: 0 for lang in ev.languages()}
        for lang in counts:
            counts[lang] = sum(1 for _ in ev.store.ids({"language": lang}))
    manifest = {**wanted, "sentences": counts, "points": report.points}
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(final, ignore_errors=True)
    tmp.replace(final)
    return manifest


def _add_keyword_indexes(index: Path) -> None:
    """The keyword indexes an index built by an older entivec lacks (routing filters on
    ``language_source``); skipped, with a note, while another process has it open."""
    try:
        with Entivec(index) as ev:
            if ev.store.vectors():
                ev.store.ensure_schema(())
    except StoreLockedError as exc:
        log.info("the routing index's keyword indexes are not checked: %s", exc)
