"""The loaders on the real corpora in ../shared/data, checked against seqeval."""

from __future__ import annotations

from pathlib import Path

import pytest
from seqeval.metrics.sequence_labeling import get_entities

from entivec.loaders import LoadStats, load
from tests.conftest import WIKIANN_LANGUAGES


def _raw_sentences(path: Path, tag_column: int) -> list[tuple[list[str], list[str]]]:
    sentences: list[tuple[list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if tokens:
                sentences.append((tokens, tags))
                tokens, tags = [], []
            continue
        fields = line.split("\t")
        tokens.append(fields[tag_column - 1])
        tags.append(fields[tag_column])
    if tokens:
        sentences.append((tokens, tags))
    return sentences


def test_wikiann_en_train_has_20000_sentences_and_seqeval_spans(data_dir: Path) -> None:
    path = data_dir / "wikiann" / "en" / "train.conllu"
    stats = LoadStats()
    sentences = list(load("wikiann", [path], stats=stats))
    raw = _raw_sentences(path, tag_column=2)
    assert len(sentences) == stats.sentences == 20000 == len(raw)
    for sentence, (tokens, tags) in zip(sentences, raw, strict=True):
        assert list(sentence.tokens) == tokens
        expected = [(t, s, e + 1) for t, s, e in get_entities(tags)]
        assert sorted((s.type, s.start, s.end) for s in sentence.spans) == sorted(expected)
    assert {s.language for s in sentences} == {"en"}
    assert {s.split for s in sentences} == {"train"}
    assert len({s.id for s in sentences}) == 20000
    assert stats.spans == sum(len(s.spans) for s in sentences)


@pytest.mark.parametrize("language", WIKIANN_LANGUAGES)
def test_every_wikiann_val_split_loads_with_its_language(data_dir: Path, language: str) -> None:
    sentences = list(load("wikiann", [data_dir / "wikiann" / language / "val.conllu"]))
    assert len(sentences) == 10000
    assert {s.language for s in sentences} == {language}
    assert {t for s in sentences for span in s.spans for t in [span.type]} == {"PER", "LOC", "ORG"}


def test_weiterleitung_artefacts_are_kept_as_tokens(data_dir: Path) -> None:
    sentences = list(load("wikiann", [data_dir / "wikiann" / "de" / "train.conllu"]))
    redirects = [s for s in sentences if s.tokens[0] == "WEITERLEITUNG"]
    assert redirects, "the German train split has WEITERLEITUNG lines"
    first = redirects[0]
    # "WEITERLEITUNG Antonina Wladimirowna ..." : the redirect word is outside the span
    assert first.spans and first.spans[0].start == 1
    assert first.text.startswith("WEITERLEITUNG ")


def test_crossner_dev_has_fine_grained_types_and_repairs_are_counted(data_dir: Path) -> None:
    paths = sorted((data_dir / "crossner").glob("*/dev.txt"))
    stats = LoadStats()
    sentences = list(load("conll", paths, language="en", corpus="crossner", stats=stats))
    raw = [s for p in paths for s in _raw_sentences(p, tag_column=1)]
    assert len(sentences) == len(raw)
    types = {span.type for s in sentences for span in s.spans}
    assert {"politicalparty", "protein", "song", "scientist"} <= types
    assert len(types) >= 39
    repaired = sum(
        1
        for _, tags in raw
        for i, tag in enumerate(tags)
        if tag.startswith("I-") and (i == 0 or tags[i - 1][2:] != tag[2:])
    )
    assert stats.repaired_tags == repaired
    assert {s.id.split("#")[0] for s in sentences} == {f"{p.parent.name}/dev" for p in paths}


def test_limit_stops_the_stream(data_dir: Path) -> None:
    paths = [data_dir / "wikiann" / lang / "val.conllu" for lang in ("de", "en")]
    sentences = list(load("wikiann", paths, limit=15))
    assert len(sentences) == 15
