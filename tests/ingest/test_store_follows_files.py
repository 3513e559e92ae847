"""The store after any sequence of ingests equals a clean ingest of the final files.

Each case of the issue ("Data silently lost or stale") is run for real: files on disk,
the real loaders, Qdrant Edge, the hashed test plugins; the store is then compared point
by point (ids, payloads, vectors) with a fresh store that ingested only the final files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from entivec.api import Entivec
from entivec.errors import CorpusFormatError, SourceNameConflictError, UnknownPluginError
from entivec.ingest.pipeline import IngestReport, ingest
from entivec.loaders import load
from entivec.store import Vector
from entivec.store.edge import EdgeStore

pytestmark = pytest.mark.usefixtures("hashed_plugins")
BOTH = ("hashed", "hashed_mention")

CONLL = """\
Angela\tB-PER
Merkel\tI-PER
besuchte\tO
Paris\tB-LOC
.\tO

Der\tO
Rhein\tB-LOC
fließt\tO

Siemens\tB-ORG
baut\tO
Züge\tO
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _snapshot(folder: Path) -> dict[str, tuple[dict[str, Any], dict[str, Vector]]]:
    with EdgeStore(folder, collection="entivec") as store:
        return {p.id: (p.payload, p.vectors) for p in store.points()}


def _same(a: Path, b: Path) -> None:
    left, right = _snapshot(a), _snapshot(b)
    assert sorted(left) == sorted(right)
    for point, (payload, vectors) in left.items():
        assert right[point][0] == payload
        assert set(right[point][1]) == set(vectors)
        for name, vector in vectors.items():
            assert right[point][1][name] == vector  # bit-identical


def _ingest(store: Path, format: str, *paths: Path, **options: Any) -> IngestReport:
    options.setdefault("plugins", BOTH)
    with Entivec(store) as ev:
        report, _ = ev.ingest(format, list(paths), show_progress=False, **options)
    return report


def test_an_edited_token_is_read_again(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "de" / "val.conllu", CONLL)
    _ingest(tmp_path / "store", "conll", corpus)
    _write(corpus, CONLL.replace("Paris\tB-LOC", "Lyon\tB-LOC"))
    report = _ingest(tmp_path / "store", "conll", corpus)
    # the sentence point and its two mentions: rewritten; the rest untouched
    assert (report.encoded, report.skipped, report.changed) == (1, 2, 3)
    _ingest(tmp_path / "clean", "conll", corpus)
    _same(tmp_path / "store", tmp_path / "clean")
    texts = [p for p, _ in _snapshot(tmp_path / "store").values() if p["kind"] == "sentence"]
    assert "Angela Merkel besuchte Lyon ." in {p["text"] for p in texts}


def test_a_sentence_deleted_from_its_file_leaves_the_store(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "de" / "val.conllu", CONLL)
    _ingest(tmp_path / "store", "conll", corpus)
    first, _, third = CONLL.split("\n\n")
    _write(corpus, f"{first}\n\n{third}")  # the sentence numbers of what follows shift
    report = _ingest(tmp_path / "store", "conll", corpus)
    # the ids are sentence numbers: #1 now holds Siemens (rewritten), #2 is gone, and so
    # are the Rhein mention of #1 and the Siemens mention of #2
    assert (report.changed, report.removed) == (1, 3)
    _ingest(tmp_path / "clean", "conll", corpus)
    _same(tmp_path / "store", tmp_path / "clean")


def test_files_of_the_same_folder_and_name_never_share_points(tmp_path: Path) -> None:
    a = _write(tmp_path / "a" / "de" / "val.conllu", CONLL)
    b = _write(tmp_path / "b" / "de" / "val.conllu", CONLL.replace("Rhein", "Main"))
    _ingest(tmp_path / "alone", "conll", a)
    # both are "de/val.conllu": the second is refused while the first still exists, and
    # in one run
    with pytest.raises(
        SourceNameConflictError, match=r"b/de/val\.conllu: .*'de/val\.conllu'.*--root"
    ):
        _ingest(tmp_path / "alone", "conll", b)
    with pytest.raises(
        SourceNameConflictError, match=r"b/de/val\.conllu: .*a/de/val\.conllu.*--root"
    ):
        _ingest(tmp_path / "alone", "conll", a, b)
    _ingest(tmp_path / "clean-a", "conll", a)
    _same(tmp_path / "alone", tmp_path / "clean-a")
    # a root that holds both names them apart, in two runs or in one
    _ingest(tmp_path / "two-runs", "conll", a, root=tmp_path)
    second = _ingest(tmp_path / "two-runs", "conll", b, root=tmp_path)
    assert second.skipped == 0 and second.encoded == 3
    _ingest(tmp_path / "one-run", "conll", a, b, window=2, batch_size=2, root=tmp_path)
    _ingest(tmp_path / "clean", "conll", a, b, root=tmp_path)
    _same(tmp_path / "two-runs", tmp_path / "clean")
    _same(tmp_path / "one-run", tmp_path / "clean")
    sentences = [p for p, _ in _snapshot(tmp_path / "clean").values() if p["kind"] == "sentence"]
    assert {p["source"] for p in sentences} == {"a/de/val.conllu", "b/de/val.conllu"}
    assert len(sentences) == 6


def test_a_root_names_files_by_their_relative_path(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus" / "de" / "val.conllu", CONLL)
    _ingest(tmp_path / "store", "conll", corpus, root=tmp_path / "corpus")
    sources = {p["source"] for p, _ in _snapshot(tmp_path / "store").values()}
    assert sources == {"de/val.conllu"}
    (tmp_path / "corpus").rename(tmp_path / "elsewhere")
    moved = tmp_path / "elsewhere" / "de" / "val.conllu"
    again = _ingest(tmp_path / "store", "conll", moved, root=tmp_path / "elsewhere")
    assert again.skipped == 3 and again.encoded == 0
    # a copy beside the original is another file, under a root or not
    copy = _write(tmp_path / "copy" / "de" / "val.conllu", CONLL)
    with pytest.raises(SourceNameConflictError, match="another file that still exists"):
        _ingest(tmp_path / "store", "conll", copy, root=tmp_path / "copy")


def test_a_moved_corpus_keeps_every_id_without_a_root(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus" / "de" / "val.conllu", CONLL)
    other = _write(tmp_path / "corpus" / "en" / "val.conllu", CONLL.replace("Rhein", "Thames"))
    _ingest(tmp_path / "store", "conll", corpus, other)
    (tmp_path / "corpus").rename(tmp_path / "mounted")
    moved = [tmp_path / "mounted" / "de" / "val.conllu", tmp_path / "mounted" / "en" / "val.conllu"]
    again = _ingest(tmp_path / "store", "conll", *moved)
    assert (again.skipped, again.encoded, again.removed) == (6, 0, 0)
    # the points now say where their files are: as a clean ingest of the moved corpus
    _ingest(tmp_path / "clean", "conll", *moved)
    _same(tmp_path / "store", tmp_path / "clean")
    payloads = [p for p, _ in _snapshot(tmp_path / "store").values()]
    assert {p["source"] for p in payloads} == {"de/val.conllu", "en/val.conllu"}
    assert {p["location"] for p in payloads} == {m.resolve().as_posix() for m in moved}


def test_a_file_named_anew_replaces_its_points(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus" / "de" / "val.conllu", CONLL)
    other = _write(tmp_path / "corpus" / "en" / "val.conllu", CONLL.replace("Rhein", "Thames"))
    _ingest(tmp_path / "store", "conll", corpus, root=tmp_path)  # "corpus/de/val.conllu"
    # by default it is "de/val.conllu": its points under the old name go even in a
    # limited run (which stores one sentence of it, not both names' copies)
    limited = _ingest(tmp_path / "store", "conll", corpus, other, limit=1)
    assert limited.removed == 7  # three sentences and four mentions under the old name
    assert {p["source"] for p, _ in _snapshot(tmp_path / "store").values()} == {"de/val.conllu"}
    report = _ingest(tmp_path / "store", "conll", corpus, other)
    assert report.removed == 0
    _ingest(tmp_path / "clean", "conll", corpus, other)
    _same(tmp_path / "store", tmp_path / "clean")


def test_a_rename_removes_the_kinds_it_writes_and_counts_the_others(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus" / "de" / "val.conllu", CONLL)
    _ingest(tmp_path / "store", "conll", corpus, root=tmp_path)
    # only sentence vectors under the new name: the old mention points stay, counted
    report = _ingest(tmp_path / "store", "conll", corpus, plugins=("hashed",))
    assert (report.removed, report.out_of_date) == (3, 4)
    # the mention plugin's run moves them
    report = _ingest(tmp_path / "store", "conll", corpus, plugins=("hashed_mention",))
    assert report.removed == 4
    _ingest(tmp_path / "clean", "conll", corpus)
    _same(tmp_path / "store", tmp_path / "clean")


def test_a_failed_set_up_changes_nothing(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "corpus" / "de" / "val.conllu", CONLL)
    _ingest(tmp_path / "store", "conll", corpus, root=tmp_path)
    before = _snapshot(tmp_path / "store")
    with pytest.raises(UnknownPluginError):
        _ingest(tmp_path / "store", "conll", corpus, plugins=("hashed", "no-such-plugin"))
    assert _snapshot(tmp_path / "store") == before


def test_points_named_by_absolute_paths_are_replaced(tmp_path: Path) -> None:
    """Stores written before names were relative hold each file's absolute path."""
    corpus = _write(tmp_path / "corpus" / "de" / "val.conllu", CONLL)
    with Entivec(tmp_path / "store") as ev:
        old = [
            dataclasses.replace(s, source=corpus.resolve().as_posix(), location="")
            for s in load("conll", [corpus])
        ]
        encoders = [ev.loaded.encoder(name) for name in BOTH]
        ingest(old, ev.store, encoders, show_progress=False)
    _ingest(tmp_path / "store", "conll", corpus)
    _ingest(tmp_path / "clean", "conll", corpus)
    _same(tmp_path / "store", tmp_path / "clean")


def test_an_id_used_twice_fails_before_anything_is_written(tmp_path: Path) -> None:
    lines = [f'{{"id": "s{i}", "tokens": ["Satz", "{i}"]}}' for i in range(6)]
    lines.append('{"id": "s1", "tokens": ["wieder", "s1"]}')  # in the fourth window of 2
    corpus = _write(tmp_path / "de" / "train.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(CorpusFormatError, match=r"train\.jsonl:7: .*'de/train#s1'.*line 2"):
        _ingest(tmp_path / "store", "jsonl", corpus, window=2, batch_size=2)
    assert not (tmp_path / "store" / "entivec").exists()


def test_two_types_over_the_same_tokens_are_two_mentions(tmp_path: Path) -> None:
    record = '{"tokens": ["Washington", "spricht"], "spans": [[0, 1, "LOC"], [0, 1, "PER"]]}'
    corpus = _write(tmp_path / "en" / "dev.jsonl", record + "\n")
    report = _ingest(tmp_path / "store", "jsonl", corpus)
    mentions = [p for p, _ in _snapshot(tmp_path / "store").values() if p["kind"] == "mention"]
    assert report.mentions == 2 and sorted(m["entity_type"] for m in mentions) == ["LOC", "PER"]


def test_a_new_encoder_version_renews_only_its_vector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.hashed_encoder import HashedEncoder

    corpus = _write(tmp_path / "de" / "val.conllu", CONLL)
    _ingest(tmp_path / "store", "conll", corpus)
    unchanged = _ingest(tmp_path / "store", "conll", corpus)
    assert (unchanged.encoded, unchanged.skipped) == (0, 3)
    monkeypatch.setattr(HashedEncoder, "version", "2", raising=False)
    renewed = _ingest(tmp_path / "store", "conll", corpus, plugins=("hashed",))
    assert (renewed.encoded, renewed.updated, renewed.changed) == (3, 3, 0)
    versions = {
        p["encoded_by"]["hashed"]
        for p, _ in _snapshot(tmp_path / "store").values()
        if p["kind"] == "sentence"
    }
    assert versions == {"hashed:2"}


def test_points_of_another_plugin_that_no_longer_match_are_reported(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "de" / "val.conllu", CONLL)
    _ingest(tmp_path / "store", "conll", corpus)
    _write(corpus, CONLL.replace("Siemens", "Bosch"))
    # only the sentence vector is renewed: the Siemens mention is the mention plugin's
    report = _ingest(tmp_path / "store", "conll", corpus, plugins=("hashed",))
    assert report.changed == 1 and report.out_of_date == 1
    assert "no longer match their files" in str(report)
    healed = _ingest(tmp_path / "store", "conll", corpus)
    assert (healed.changed, healed.mentions, healed.out_of_date) == (1, 1, 0)
    _ingest(tmp_path / "clean", "conll", corpus)
    _same(tmp_path / "store", tmp_path / "clean")


def test_a_limited_run_removes_nothing(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "de" / "val.conllu", CONLL)
    _ingest(tmp_path / "store", "conll", corpus)
    report = _ingest(tmp_path / "store", "conll", corpus, limit=1)
    assert report.removed == 0 and report.skipped == 1
    assert len(_snapshot(tmp_path / "store")) == 3 + 4  # sentences + mentions
