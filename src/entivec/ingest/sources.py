"""Which file a stored ``source`` name stands for, checked before a run writes.

A point's id derives from its file's name (:func:`entivec.loaders.source_name`: relative
to the corpus root, by default the file's folder and its name), so moving or
re-mounting a corpus keeps every id. A name can stand for two files, though
("a/de/val.conllu" and "b/de/val.conllu" are both "de/val.conllu"), and a run over the
second would overwrite the first file's points and then delete the ones it lacks. So
every point also records the file's absolute ``location``, and before anything is
written each file is claimed:

- two files of this run under one name: refused;
- nothing stored under its name: new; if points of the same file are stored under
  another name (it was ingested with another root, or before names were relative),
  those are removed now, before the run writes the file under its new name (removed
  after it, a run interrupted between the two would leave both, and its repetition
  would no longer see the old name as this file's; the file is there to be read again,
  so nothing is lost);
- stored from the same location, or from one that is now gone (the corpus moved) or is
  the same file (another mount): the points are the file's; a moved file's points learn
  their new location;
- stored from another file that still exists: refused before anything is written,
  naming both files and the ``--root`` that tells them apart, unless the run was given
  its root: names under a root the user chose are theirs to keep (a copy of the corpus
  ingested under the same root is the same corpus).
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


def claim(
    store: Store, corpus: str, files: Sequence[tuple[Path, str]], *, chosen_root: bool = False
) -> int:
    """Check that each ``(path, source name)`` of ``corpus`` may be written under its name.

    Args:
        chosen_root: The names are relative to a root the user gave: another file under
            a stored name is taken for the same one.

    Returns:
        The number of points removed: the same files' points under other names.

    Raises:
        SourceNameConflictError: A name is stored for another file that still exists.
    """
    if not store.vectors():
        return 0  # a new collection: nothing to tell apart
    removed = 0
    for path, source in files:
        location = path.resolve().as_posix()
        where = {"corpus": corpus, "source": source}
        first = next(iter(store.ids(where)), None)
        if first is None:
            for older in _older_names(store, corpus, source, location):
                stale = list(store.ids({"corpus": corpus, "source": older}))
                log.info("%s was stored as %r: its %d points are replaced", path, older, len(stale))
                store.delete(stale)
                removed += len(stale)
            continue
        stored = store.payloads([first], ["location"]).get(first, {}).get("location")
        if stored == location:
            continue
        if stored and not chosen_root and _another_file(Path(stored), path):
            raise SourceNameConflictError(
                f"{path}: the collection already holds {source!r} of corpus {corpus!r} "
                f"from {stored}, another file that still exists; name the files apart "
                "with a --root that holds both (or --corpus)"
            )
        ids = list(store.ids(where))
        log.info("%s was read from %s before: its %d points keep their ids", path, stored, len(ids))
        store.set_payload(ids, {"location": location})
    return removed


def _another_file(stored: Path, path: Path) -> bool:
    try:
        return stored.is_file() and not os.path.samefile(stored, path)
    except OSError:  # unreadable now: it cannot be told apart, so it is not in the way
        return False


def _older_names(store: Store, corpus: str, source: str, location: str) -> list[str]:
    """Names the file at ``location`` is stored under other than ``source``: the names
    given by another root, and its absolute path (how files were named before)."""
    names = set()
    for point in store.ids({"corpus": corpus, "location": location}):
        names.add(store.payloads([point], ["source"])[point].get("source"))
        break  # one root named every point of a file the same
    if location != source and next(iter(store.ids({"corpus": corpus, "source": location})), None):
        names.add(location)
    return sorted(name for name in names if name and name != source)
