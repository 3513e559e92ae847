"""A mention of written text is its name: the punctuation around it goes, what the name
holds stays (no model needed)."""

from __future__ import annotations

from entivec.lab.written import _name_of
from entivec.ner.tagging import Entity, entities_from_tags, mention_spans, spans_from_tags
from entivec.records import Span


def test_quotes_and_brackets_around_a_name_are_not_the_mention() -> None:
    # what the Russian adapter answers for «Российского телевидения» and "Кампала (Уганда)"
    tokens = ["продюсер", "«", "Российского", "телевидения", "»", "."]
    tags = ["O", "B-ORG", "B-ORG", "I-ORG", "I-ORG", "O"]
    assert spans_from_tags(tags) == [Span(1, 2, "ORG"), Span(2, 5, "ORG")]
    assert mention_spans(tags, tokens) == [Span(2, 4, "ORG")]  # a lone « is no mention
    tokens = ["Кампала", "(", "Уганда", ")", "."]
    assert mention_spans(["B-LOC", "I-LOC", "O", "O", "O"], tokens) == [Span(0, 1, "LOC")]
    tokens = ["„", "Süddeutsche", "Zeitung", "“", "."]
    assert mention_spans(["B-ORG", "I-ORG", "I-ORG", "I-ORG", "I-ORG"], tokens) == [
        Span(1, 3, "ORG")
    ]
    text = "Wir lasen «Die Zeit»."
    found = entities_from_tags(text, ["O", "O", "B-ORG", "I-ORG", "I-ORG", "I-ORG", "O"])
    assert found == [Entity(11, 19, "ORG", "Die Zeit")]


def test_what_the_name_holds_stays() -> None:
    tokens = ["Кампала", "(", "Уганда", ")", "."]
    assert mention_spans(["B-LOC", "I-LOC", "I-LOC", "I-LOC", "O"], tokens) == [Span(0, 4, "LOC")]
    tokens = ["Пуату", "—", "Шаранта"]
    assert mention_spans(["B-LOC", "I-LOC", "I-LOC"], tokens) == [Span(0, 3, "LOC")]
    tokens = ["«", "Динамо", "»", "(", "Москва", ")"]
    tags = ["B-ORG"] + ["I-ORG"] * 5
    assert mention_spans(tags, tokens) == [Span(0, 6, "ORG")]
    # two quoted names in one span are not one name in quotes: nothing to trim
    tokens = ["«", "Аэро", "»", "и", "«", "Летов", "»"]
    tags = ["B-ORG"] + ["I-ORG"] * 6
    assert mention_spans(tags, tokens) == [Span(0, 7, "ORG")]
    # quotes nested in a quoted name stay with it
    tokens = ["«", "Театр", "„", "Ленком", "“", "»"]
    assert mention_spans(["B-ORG"] + ["I-ORG"] * 5, tokens) == [Span(1, 5, "ORG")]


def test_eval_written_scores_the_gold_name_as_a_mention_is_stored() -> None:
    text = "Строился заводами «Авиа», а потом в Кампале (Уганда)."
    start = text.index("«")
    first, last = _name_of(text, start, start + len("«Авиа»"))
    assert text[first:last] == "Авиа"
    first, last = _name_of(text, text.index("Кампале"), text.index(")") + 1)
    assert text[first:last] == "Кампале (Уганда)"
    # a gold span of punctuation alone keeps its characters rather than vanish
    comma = text.index(",")
    assert _name_of(text, comma, comma + 1) == (comma, comma + 1)
