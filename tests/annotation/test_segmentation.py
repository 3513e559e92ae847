"""Sentence segmentation of raw documents, and the lab's comparison of segmenters."""

from __future__ import annotations

from entivec.annotation.segmentation import sentence_spans
from entivec.lab.segmentation import SEGMENTERS, evaluate_segmenters, starts


def test_offsets_point_into_the_document() -> None:
    text = "  Dr. Müller kam um 9 Uhr.  Er sagte: „Wir fangen an.“\nDann ging er! "
    spans = sentence_spans(text, "de")
    assert [text[s:e] for s, e in spans] == [
        "Dr. Müller kam um 9 Uhr.",
        "Er sagte: „Wir fangen an.“",
        "Dann ging er!",
    ]
    assert sentence_spans("") == [] and sentence_spans(" \n ") == []


def test_names_with_initials_and_lowercase_continuations_stay_whole() -> None:
    cases = {
        # sentencex cuts each of these after the full stop
        "Он учился в университете имени М. А. Шолохова. Потом уехал.": 2,
        "Papst Paul VI. ernannte ihn zum Bischof. Das war 1970.": 2,
        "J. R. R. Tolkien wrote it. It sold well.": 2,
        "Im Jahr 1933 wurden der 20. und der 21. ratifiziert.": 1,
        # after a long word a lowercase start is a sentence of its own
        "Wir sind angekommen. morgen geht es weiter.": 2,
        # a dash and a space open a line of dialogue
        "To tylko mały krokodylek. - Czy to sprytne? - Bardzo.": 3,
    }
    for text, count in cases.items():
        spans = sentence_spans(text)
        assert len(spans) == count, [text[s:e] for s, e in spans]
        assert text[spans[0][0] : spans[-1][1]] == text.strip()


def test_ordinals_stay_in_their_sentence_where_the_language_writes_them_so() -> None:
    ordinals = {
        "Er steht beim 1. FC Kaiserslautern unter Vertrag. Das ist gut.": "de",
        "Żołnierze 1. Armii Wojska Polskiego przeprawili się na Pragę. Było zimno.": "pl",
        "Narodil se 5. května 1950 v Praze. Vystudoval práva.": "cs",
    }
    for text, language in ordinals.items():
        for given in (language, None):  # given, or read by fastText from the document
            spans = sentence_spans(text, given)
            assert len(spans) == 2, [text[s:e] for s, e in spans]
            first = text[spans[0][0] : spans[0][1]]
            assert first.endswith(".") and not first[-2].isdigit(), first
    # a number ends a sentence where ordinals are written otherwise; in German the rule's
    # price: a sentence ending in a small number joins the next
    english = "He scored 12. The team lost anyway."
    assert len(sentence_spans(english)) == len(sentence_spans(english, "en")) == 2
    assert len(sentence_spans("Muiriel ist jetzt 20. Das Passwort ist geheim.")) == 1


def test_the_comparison_credits_found_boundaries_and_counts_extra_ones() -> None:
    assert starts("One. Two.", ["One. ", "Two."]) == {5}
    gold = {"tatoeba-en": [f"Sentence number {i} is here." for i in range(8)]}
    result = evaluate_segmenters(gold)
    assert {row["segmenter"] for row in result["rows"]} == set(SEGMENTERS)
    for row in result["rows"]:
        assert row["tatoeba-en"] == {"recall": 1.0, "extra": 0.0}
    # a segmenter that never splits finds no boundary
    lazy = evaluate_segmenters(gold, {"none": lambda text, language: [text]})
    assert lazy["rows"][0]["tatoeba-en"]["recall"] == 0.0
