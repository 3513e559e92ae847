"""The written-text measurements: word splitters on detokenised corpus sentences, and the
raw-text path on written documents against the same sentences pre-tokenised."""

from __future__ import annotations

from pathlib import Path

import pytest

from entivec.api import Entivec
from entivec.build.ner.written import as_written_words, written_form
from entivec.lab.words import evaluate_words
from entivec.loaders import load


def test_written_forms_keep_every_gold_span(data_dir: Path) -> None:
    for sentence in load("wikiann", [data_dir / "wikiann" / "de" / "val.conllu"], limit=300):
        written = written_form(sentence.tokens, sentence.language)
        assert written is not None
        assert [written.text[a:b] for a, b in written.offsets] == list(sentence.tokens)
        again = as_written_words(sentence)
        assert again is not None and len(again.spans) == len(sentence.spans)
        for old, new in zip(sentence.spans, again.spans, strict=True):
            assert again.text[slice(*again.char_offsets(new))].startswith(
                written.text[slice(*written.char_span(old))][:1]
            )


def test_entivec_words_cut_written_text_as_the_corpus_does(data_dir: Path) -> None:
    paths = [data_dir / "wikiann" / lang / "val.conllu" for lang in ("en", "ru")]
    result = evaluate_words("wikiann", paths, language=None, limit=300)
    for found in result.values():
        rows = found["splitters"]
        ours, whitespace = rows["entivec (annotation/words.py)"], rows["whitespace"]
        assert ours["tokens_exact"] > whitespace["tokens_exact"] + 0.3
        assert ours["spans_on_boundaries"] >= 0.99 > whitespace["spans_on_boundaries"]


@pytest.mark.models
def test_eval_written_scores_written_against_pretokenised(tmp_path: Path, data_dir: Path) -> None:
    from entivec.lab.written import evaluate_written

    paths = [data_dir / "wikiann" / lang / "val.conllu" for lang in ("de", "ru")]
    with Entivec(tmp_path / "store") as ev:
        result = evaluate_written(
            ev, "wikiann", paths, limit=60, per_document=1, show_progress=False
        )
    rows = result["by_language"]
    assert set(rows) == {"de", "ru"} and result["overall"]["sentences"] == 120
    for row in rows.values():
        assert row["written"]["f1"] > 0.5 and row["pretokenised"]["f1"] > 0.5
        assert 0.8 < row["ratio"] <= 1.2
        assert row["language_right"] > 0.6
