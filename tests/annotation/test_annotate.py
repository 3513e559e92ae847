"""Raw text in, languages and entities out: annotating ingestion with the real models.

The ``lang`` vector routes each sentence against labelled WikiANN sentences (the session's
routing store stands in for the shipped index), the LoRA adapters ./run trains tag it in
onnxruntime, and e5 and entity vectors are stored as for gold corpora.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from entivec.annotation.words import words
from entivec.api import Entivec
from entivec.ner.tagging import mention_edges
from entivec.store import Vector
from entivec.store.edge import EdgeStore

RAW = """\
Angela Merkel besuchte am Montag Paris. Sie traf dort Emmanuel Macron.
Владимир Путин родился в Ленинграде. Он живёт в Москве.
Real Madrid juega en el estadio Santiago Bernabéu. Barack Obama visited Berlin in 2013.
😀😀😀
"""


def _points(folder: Path) -> dict[str, tuple[dict[str, Any], dict[str, Vector]]]:
    with EdgeStore(folder, collection="entivec") as store:
        return {p.id: (p.payload, p.vectors) for p in store.points()}


def _ingest(folder: Path, path: Path, routing_store: Entivec, **options: Any) -> Any:
    with Entivec(folder) as ev:
        report, _ = ev.ingest(
            "text",
            [path],
            plugins=("e5", "entity"),
            routing_index=routing_store.store,
            show_progress=False,
            **options,
        )
    return report


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text(RAW, encoding="utf-8")
    return path


def test_raw_documents_are_routed_tagged_and_stored(
    tmp_path: Path, raw: Path, routing_store: Entivec
) -> None:
    report = _ingest(tmp_path / "store", raw, routing_store)
    points = _points(tmp_path / "store")
    sentences = {p["text"]: p for p, _ in points.values() if p["kind"] == "sentence"}
    assert len(sentences) == 7 and report.sentences == 7
    # each sentence routed on its own: the third document mixes Spanish and English
    languages = {text.split()[0]: p["language"] for text, p in sentences.items()}
    assert languages["Angela"] == "de" and languages["Владимир"] == "ru"
    assert languages["Real"] == "es" and languages["Barack"] == "en"
    emoji = sentences["😀😀😀"]
    assert emoji["language"] is None and emoji["language_source"] is None
    assert report.languages["unrouted"] == 1
    merkel = sentences["Angela Merkel besuchte am Montag Paris."]
    assert merkel["language_source"] == "routed" and merkel["language_confidence"] > 0.5
    assert (merkel["doc_id"], merkel["doc_start"], merkel["doc_end"]) == (
        "notes.txt:1",
        0,
        39,
    )
    # the routed language's adapter tagged it; the spans became mention points
    assert merkel["span_source"] == "ner" and merkel["ner_adapter"] == "de"
    assert "PER" in merkel["entity_type"]
    mentions = [(p, v) for p, v in points.values() if p["kind"] == "mention"]
    assert {"Angela Merkel", "Wladimir", "Barack Obama"} & {p["text"] for p, _ in mentions}
    assert all(
        p["span_source"] == "ner" and len(cast("list[float]", v["entity"])) == 500
        for p, v in mentions
    )
    assert report.mentions == len(mentions) == sum(report.entity_types.values())
    # offsets round-trip: each mention is its sentence's text as written at its offsets,
    # and never carries the sentence's punctuation
    for payload, _ in mentions:
        start, end = payload["span"]["start"], payload["span"]["end"]
        assert payload["sentence_text"][start:end] == payload["text"]
        assert payload["text"][-1].isalnum(), payload["text"]
    for payload in sentences.values():
        for span in payload["spans"]:
            assert payload["text"][span["char_start"] : span["char_end"]].strip()
    assert set(report.adapters) <= {"de", "ru", "es", "en", "joint"}
    assert "tagged by adapter" in report.breakdown()


def test_a_rerun_changes_nothing_and_no_ner_tags_nothing(
    tmp_path: Path, raw: Path, routing_store: Entivec
) -> None:
    _ingest(tmp_path / "store", raw, routing_store)
    before = _points(tmp_path / "store")
    again = _ingest(tmp_path / "store", raw, routing_store)
    assert (again.encoded, again.skipped, again.changed) == (0, 7, 0)
    # an unchanged document is neither routed nor tagged again
    assert (again.annotated, again.annotations_reused) == (0, 7)
    after = _points(tmp_path / "store")
    assert sorted(before) == sorted(after)
    for point, (payload, vectors) in before.items():
        assert after[point][0] == payload
        assert all(after[point][1][n] == v for n, v in vectors.items())  # bit-identical
    _ingest(tmp_path / "plain", raw, routing_store, ner="off")
    plain = _points(tmp_path / "plain")
    assert all(p["kind"] == "sentence" and p["span_source"] is None for p, _ in plain.values())


def test_an_edited_document_is_annotated_again_only_where_it_changed(
    tmp_path: Path, raw: Path, routing_store: Entivec
) -> None:
    _ingest(tmp_path / "store", raw, routing_store)
    raw.write_text(RAW.replace("Sie traf dort", "Dort traf sie"), encoding="utf-8")
    edited = _ingest(tmp_path / "store", raw, routing_store)
    assert (edited.annotated, edited.annotations_reused) == (1, 6)
    assert edited.encoded == 1 and edited.skipped == 6


def test_a_bare_name_takes_its_documents_language(tmp_path: Path, routing_store: Entivec) -> None:
    """A sentence too short to route on its own takes the language its document's other
    sentences agree on; a one-sentence document still routes on its own."""
    path = tmp_path / "letters.txt"
    path.write_text(
        "The chancellor flew home on Monday evening after the summit. "
        "She landed at the airport shortly before midnight. Berlin.\n"
        "Berlin.\n",
        encoding="utf-8",
    )
    _ingest(tmp_path / "store", path, routing_store, ner="off")
    sentences = [p for p, _ in _points(tmp_path / "store").values()]
    in_document = next(p for p in sentences if p["text"] == "Berlin." and p["doc_start"] > 0)
    alone = next(p for p in sentences if p["text"] == "Berlin." and p["doc_start"] == 0)
    assert (in_document["language"], in_document["language_source"]) == ("en", "document")
    assert in_document["language_confidence"] == 1.0
    assert alone["language_source"] != "document"
    assert all(p["language"] == "en" for p in sentences if p["text"] != "Berlin.")


def test_documents_of_two_files_lend_their_language_only_to_their_own(
    tmp_path: Path, routing_store: Entivec
) -> None:
    """Two files of one name in two folders have documents of the same id
    (``letters.txt:1``); each is a document of its own file."""
    english = tmp_path / "a" / "letters.txt"
    russian = tmp_path / "b" / "letters.txt"
    for path, text in (
        (english, "The chancellor flew home on Monday evening after the summit. "
         "She landed at the airport shortly before midnight. Berlin.\n"),
        (russian, "Канцлер вернулась домой в понедельник вечером после саммита. "
         "Она приземлилась в аэропорту незадолго до полуночи. Berlin.\n"),
    ):  # fmt: skip
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    with Entivec(tmp_path / "store") as ev:
        ev.ingest("text", [english, russian], plugins=("e5",), routing_index=routing_store.store,
                  show_progress=False, ner="off")  # fmt: skip
    names = {
        p["source"]: (p["language"], p["language_source"])
        for p, _ in _points(tmp_path / "store").values()
        if p["text"] == "Berlin."
    }
    assert names == {"a/letters.txt": ("en", "document"), "b/letters.txt": ("ru", "document")}


def test_a_quoted_name_is_stored_without_its_quotes(tmp_path: Path, routing_store: Entivec) -> None:
    """People quote names («Российского телевидения», „Süddeutsche Zeitung“, "The New
    York Times"); the stored mention is the name, with a bracket it holds, and its
    offsets still cut it out of the sentence as written."""
    path = tmp_path / "quotes.txt"
    path.write_text(
        "Он работал продюсером «Российского телевидения» в Москве.\n"
        "Строился заводами «Авиа», «Аэро» и «Летов» в Праге.\n"
        "Sie las jeden Morgen die „Süddeutsche Zeitung“ in München.\n"
        'She wrote for "The New York Times" and moved to Kampala (Uganda).\n',
        encoding="utf-8",
    )
    _ingest(tmp_path / "store", path, routing_store)
    mentions = [p for p, _ in _points(tmp_path / "store").values() if p["kind"] == "mention"]
    names = {"Российского телевидения", "Авиа", "Аэро", "Летов", "Süddeutsche Zeitung"}
    names |= {"The New York Times"}
    assert len(names & {p["text"] for p in mentions}) >= 3
    for payload in mentions:
        start, end = payload["span"]["start"], payload["span"]["end"]
        assert payload["sentence_text"][start:end] == payload["text"]
        # nothing left to trim: no quote, bracket or full stop around the name
        cut = [w for w, _, _ in words(payload["text"])]
        assert mention_edges(cut, 0, len(cut)) == (0, len(cut)), payload["text"]


def test_ner_force_replaces_gold_spans(
    tmp_path: Path, data_dir: Path, routing_store: Entivec
) -> None:
    path = data_dir / "wikiann" / "de" / "val.conllu"
    with Entivec(tmp_path / "store") as ev:
        gold, _ = ev.ingest("wikiann", [path], plugins=("e5",), limit=30, show_progress=False)
        forced, _ = ev.ingest(
            "wikiann", [path], plugins=("e5",), limit=30, ner="force", show_progress=False
        )
        payloads = [p.payload for p in ev.store.points()]
    assert gold.adapters == {} and forced.adapters == {"de": 30}
    assert all(p["span_source"] == "ner" and p["language_source"] == "path" for p in payloads)


@pytest.mark.models
def test_eval_annotate_scores_hidden_languages_and_spans(tmp_path: Path, data_dir: Path) -> None:
    from entivec.lab.annotate import languages_and_spans

    paths = [data_dir / "wikiann" / lang / "val.conllu" for lang in ("de", "ru")]
    with Entivec(tmp_path / "store") as ev:
        result = languages_and_spans(ev, "wikiann", paths, limit=40, show_progress=False)
    rows = result["by_language"]
    assert set(rows) == {"de", "ru"} and result["overall"]["sentences"] == 80
    # routed against the shipped index, tagged by the routed adapter
    assert rows["ru"]["language_accuracy"] > 0.9 and rows["de"]["language_accuracy"] > 0.7
    assert 0.5 < result["overall"]["span_f1"] <= 1.0
