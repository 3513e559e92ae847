"""Which file a stored ``source`` name stands for, checked before a run writes.

A point's id derives from its file's name (:func:`entivec.loaders.source_name`: relative
to the corpus root, by default the file's folder and its name), so moving or
re-mounting a corpus keeps every id. A name can stand for two files, though
("a/de/val.conllu" and "b/de/val.conllu" are both "de/val.conllu"), and a run over the
second would overwrite the first file's points and then delete the ones it lacks. So
every point also records the file's absolute ``location`` (a keyword index), and once a
run is set up, before it writes, each file is claimed:

- two files of the run under one name: refused;
- stored under its name from another file that still exists: refused, naming both
  files and the ``--root`` that tells them apart;
- stored under its name from a location that is gone (the corpus moved) or that is the
  same file (another mount): the points are the file's and learn their new location;
- stored under another name from this same location (the file was ingested under
  another root, or before names were relative, when its absolute path was its name):
  those names are returned, and the run removes their points once it has written (the
  kinds it writes, others counted as out of date; a limited run too, or its file would
  be stored twice). The lookup runs on every run, so a run interrupted before the
  removal leaves it to its repetition.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from entivec.errors import SourceNameConflictError
from entivec.store import Store

log = logging.getLogger(__name__)


def refuse_shared_names(files: Sequence[tuple[Path, str]]) -> None:
    """Refuse two files of one run under one name.

    Raises:
        SourceNameConflictError: Two files have the same name.
    """
    first_of: dict[str, Path] = {}
    for path, source in files:
        other = first_of.setdefault(source, path)
        if other != path and other.resolve() != path.resolve():
            raise SourceNameConflictError(
                f"{path}: {other} has the same name, {source!r}; name the files apart with "
                "a --root that holds both"
            )


def claim(store: Store, corpus: str, files: Sequence[tuple[Path, str]]) -> list[str]:
    """Check that each ``(path, source name)`` of ``corpus`` may be written under its name,
    and give moved files' points their new location.

    Returns:
        The other names the same files' points are stored under.

    Raises:
        SourceNameConflictError: A name is stored for another file that still exists.
    """
    if not store.vectors():
        return []  # a new collection: nothing to tell apart
    older: list[str] = []
    for path, source in files:
        location = path.resolve().as_posix()
        where = {"corpus": corpus, "source": source}
        first = next(iter(store.ids(where)), None)
        stored = (
            store.payloads([first], ["location"]).get(first, {}).get("location")
            if first is not None
            else location
        )
        if stored != location:
            if stored and _another_file(Path(stored), path):
                raise SourceNameConflictError(
                    f"{path}: the collection already holds {source!r} of corpus {corpus!r} "
                    f"from {stored}, another file that still exists; name the files apart "
                    "with a --root that holds both (or --corpus)"
                )
            ids = list(store.ids(where))
            log.info("%s was read from %s: its %d points keep their ids", path, stored, len(ids))
            store.set_payload(ids, {"location": location})
        older += _older_names(store, corpus, source, location)
    return older


def _another_file(stored: Path, path: Path) -> bool:
    try:
        return stored.is_file() and not os.path.samefile(stored, path)
    except OSError:  # unreadable now: it cannot be told apart, so it is not in the way
        return False


def _older_names(store: Store, corpus: str, source: str, location: str) -> list[str]:
    """Names other than ``source`` that the file at ``location`` is stored under: given by
    another root, or its absolute path (how files were named before)."""
    names = set()
    seen = [source]
    while True:  # one lookup per name: a file's points share theirs
        where = {"corpus": corpus, "location": location}
        point = next(iter(store.ids(where, exclude={"source": seen})), None)
        if point is None:
            break
        name = store.payloads([point], ["source"]).get(point, {}).get("source")
        if not name:
            break
        names.add(name)
        seen.append(name)
    if location != source and next(iter(store.ids({"corpus": corpus, "source": location})), None):
        names.add(location)
    if names:
        log.info("%s is stored under other names too: %s", location, ", ".join(sorted(names)))
    return sorted(names)
