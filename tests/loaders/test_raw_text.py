"""Raw text: documents cut into sentences that keep their document and offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from entivec.cli import cli
from entivec.errors import CorpusFormatError, InvalidArgumentError
from entivec.loaders import load

DOCUMENTS = """\
Angela Merkel besuchte am Montag Paris. Sie traf dort Emmanuel Macron.

Dr. Müller kam um 9 Uhr.  Er sagte nichts!
"""


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_each_line_is_a_document_cut_into_sentences(tmp_path: Path) -> None:
    path = _file(tmp_path, "notes.txt", DOCUMENTS)
    sentences = list(load("text", [path], require_language=False))
    assert [s.text for s in sentences] == [
        "Angela Merkel besuchte am Montag Paris.",
        "Sie traf dort Emmanuel Macron.",
        "Dr. Müller kam um 9 Uhr.",
        "Er sagte nichts!",
    ]
    lines = DOCUMENTS.splitlines()
    for sentence in sentences:
        assert sentence.doc_span is not None
        start, end = sentence.doc_span
        assert lines[sentence.line - 1][start:end] == sentence.text
        # every word is the text as written at its offsets, punctuation a word of its own
        assert [sentence.text[a:b] for a, b in sentence.offsets] == list(sentence.tokens)
    assert sentences[0].tokens[-2:] == ("Paris", ".")
    assert sentences[2].tokens[:2] == ("Dr.", "Müller")  # an abbreviation keeps its dot
    assert [s.document for s in sentences] == [f"notes.txt:{n}" for n in (1, 1, 3, 3)]
    assert [s.id.rsplit(".", 1)[1] for s in sentences] == ["0", "1", "0", "1"]
    assert all(s.language == "" and s.span_source == "" for s in sentences)


def test_a_file_can_be_one_document(tmp_path: Path) -> None:
    path = _file(tmp_path, "de/brief.txt", DOCUMENTS)
    sentences = list(load("text", [path], document_per_file=True, language_from_path=True))
    assert {s.document for s in sentences} == {"brief.txt"}
    assert [s.line for s in sentences] == [1, 1, 3, 3]
    assert all(s.language == "de" and s.language_source == "path" for s in sentences)
    start, end = sentences[2].doc_span or (0, 0)
    assert DOCUMENTS[start:end] == "Dr. Müller kam um 9 Uhr."
    with pytest.raises(InvalidArgumentError, match="applies to the text format"):
        list(load("lines", [path], document_per_file=True))


def test_lines_keeps_one_sentence_per_line(tmp_path: Path) -> None:
    path = _file(tmp_path, "en/kb.txt", "One. Two.\nThree\n")
    lines = load("lines", [path], require_language=False)
    assert [s.text for s in lines] == ["One. Two.", "Three"]


def test_jsonl_text_records_are_documents(tmp_path: Path) -> None:
    records = [
        {"id": "a", "text": "Berlin ist groß. Paris auch.", "language": "de"},
        {"text": "No id here."},
    ]
    path = _file(tmp_path, "docs.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    sentences = list(load("jsonl", [path], require_language=False))
    assert [(s.id, s.language, s.language_source) for s in sentences] == [
        (f"{tmp_path.name}/docs#a.0", "de", "given"),
        (f"{tmp_path.name}/docs#a.1", "de", "given"),
        (f"{tmp_path.name}/docs#2.0", "", ""),
    ]
    assert sentences[1].doc_span == (17, 28) and sentences[1].document == f"{tmp_path.name}/docs#a"


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({}, 'expected "tokens"'),
        ({"text": ""}, 'expected "text": a non-empty string'),
        ({"text": "  "}, 'expected "text": a non-empty string'),
        ({"text": 5}, 'expected "text": a non-empty string'),
        ({"text": "a b", "tokens": ["a", "b"]}, 'expected "text" or "tokens", not both'),
    ],
)
def test_bad_text_records_are_one_line_errors(
    tmp_path: Path, record: dict[str, object], expected: str
) -> None:
    path = _file(tmp_path, "de/docs.jsonl", json.dumps(record) + "\n")
    with pytest.raises(CorpusFormatError, match=f"docs.jsonl:1: {expected}"):
        list(load("jsonl", [path]))


def test_a_long_document_and_one_of_emoji_load(tmp_path: Path) -> None:
    long = " ".join(["Die Sitzung dauerte lange und niemand sagte etwas."] * 4000)
    path = _file(tmp_path, "de/long.txt", long + "\n😀😀😀\n")
    sentences = list(load("text", [path], require_language=False))
    assert len(long) > 200_000 and len(sentences) == 4001
    assert sentences[-1].text == "😀😀😀" and sentences[-1].line == 2


def test_raw_text_without_the_lang_vector_says_what_to_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENTIVEC_CACHE_DIR", str(tmp_path / "empty-cache"))
    path = _file(tmp_path, "notes.txt", DOCUMENTS)
    result = CliRunner().invoke(
        cli, ["ingest", "text", str(path), "--store", str(tmp_path / "s"), "--no-ner"]
    )
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "train one with `entivec train routing wikiann" in result.output
    assert not (tmp_path / "s" / "entivec").exists()


def test_loaders_say_where_languages_and_spans_came_from(tmp_path: Path) -> None:
    conll = _file(tmp_path, "de/a.txt", "Berlin\tB-LOC\n")
    tagged = _file(tmp_path, "x.jsonl", '{"tokens": ["Paris"], "spans": [], "language": "fr"}\n')
    bare = _file(tmp_path, "nl/y.jsonl", '{"tokens": ["Amsterdam"]}\n')
    (gold,) = load("conll", [conll])
    (listed,) = load("jsonl", [tagged])
    (untagged,) = load("jsonl", [bare])
    assert (gold.span_source, gold.language_source) == ("gold", "path")
    assert (listed.span_source, listed.language_source) == ("gold", "given")
    assert (untagged.span_source, untagged.language_source) == ("", "path")
    (given,) = load("conll", [conll], language="nl")
    assert given.language_source == "given"


@pytest.mark.usefixtures("hashed_plugins")
def test_gold_corpora_need_no_tagger_or_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an empty cache: no adapters, no lang vector, no routing index
    monkeypatch.setenv("ENTIVEC_CACHE_DIR", str(tmp_path / "empty-cache"))
    conll = _file(tmp_path, "de/a.txt", "Berlin\tB-LOC\nist\tO\n")
    result = CliRunner().invoke(
        cli, ["-q", "ingest", "conll", str(conll), "--store", str(tmp_path / "s"),
              "--plugin", "hashed", "--plugin", "hashed_mention"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "languages: de 1" in result.output and "entities: LOC 1" in result.output
    assert "tagged by adapter" not in result.output


WRITTEN = [
    "«Berlin», sagte sie, „ist schön“ (2019).",
    "Он сказал: «Москва — столица России».",
    "l'Italia e Jean-Luc: don't stop, U.S. 3.5 km!",
    "Ο Γιώργος ζει στην Αθήνα.",
    "東京は日本の首都です。大阪も大きい。",
    "Twitter) and (Krakowie,",
]


@pytest.mark.parametrize("text", WRITTEN)
def test_written_words_round_trip_in_any_script(tmp_path: Path, text: str) -> None:
    """Quotes and punctuation in several scripts: every word is a slice of the text as
    written, no word carries punctuation glued to letters, and nothing is lost but space."""
    path = _file(tmp_path, "notes.txt", text + "\n")
    for sentence in load("text", [path], require_language=False):
        assert [sentence.text[a:b] for a, b in sentence.offsets] == list(sentence.tokens)
        assert "".join(sentence.tokens) == "".join(sentence.text.split())
        for token in sentence.tokens:
            glued = token[-1] in ".,:;!?)»“" and token[:-1].isalpha()
            assert not glued, token
