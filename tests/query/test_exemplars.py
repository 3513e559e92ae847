"""Query expansion for entity-type search: instances written by the LM, read as mentions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from entivec.cli import cli
from entivec.errors import InvalidArgumentError
from entivec.mentions import PREFIX_TOKEN, SpanInput
from entivec.query.exemplars import (
    EXEMPLAR_PROMPT,
    MAX_NEW_TOKENS,
    ExemplarWriter,
    exemplar_line,
    exemplar_spans,
    expanded_queries,
    written_enough,
)
from entivec.query.language_model import LanguageModel


def test_a_description_becomes_one_capitalised_line_after_the_examples() -> None:
    assert exemplar_line("  a  political\nparty ") == EXEMPLAR_PROMPT + "A political party:"
    with pytest.raises(InvalidArgumentError, match="at least one word"):
        exemplar_line(" \n ")


def test_exemplars_are_the_first_distinct_names_of_the_listing_as_spans_of_it() -> None:
    line = exemplar_line("magazine")
    written = " Harper's Bazaar, The Guardian, the guardian,, The New Yorker, Time, Wired"
    spans = exemplar_spans(line, written, count=4)
    assert [s.text[s.start : s.end] for s in spans if s.start is not None] == [
        "Harper's Bazaar",
        "The Guardian",
        "The New Yorker",
        "Time",
    ]
    assert {s.text for s in spans} == {line + written}
    assert exemplar_spans(line, "") == []


def test_writing_stops_once_enough_distinct_names_are_closed_by_a_comma() -> None:
    assert written_enough(" Nature, Science, nature, Cell,", 3)
    assert not written_enough(" Nature, Science, nature, Cell", 3)  # Cell may go on
    assert not written_enough(" Nature, , Nature,", 2)


def test_the_lm_writes_instances_once_and_they_pull_the_query_towards_them(
    lm: LanguageModel, entity_encoder: object
) -> None:
    writer = ExemplarWriter(lm)
    names = ["chemical compound", "magazine"]
    written = writer.write(names)
    assert all(1 <= len(spans) <= writer.count for spans in written)
    for spans in written:
        for span in spans:
            assert span.start is not None and span.text[span.start : span.end].strip()
            assert span.text.startswith(EXEMPLAR_PROMPT)
    assert writer.write(list(reversed(names))) == list(reversed(written))
    # stopping early writes the same instances as writing on to the end of the line
    line = exemplar_line(names[0])
    [unbounded] = lm.complete([PREFIX_TOKEN + line], max_new_tokens=MAX_NEW_TOKENS)
    full = exemplar_spans(line, unbounded, writer.count)
    assert len(written[0][0].text) < len(line + unbounded)  # it did stop early here

    def names_of(spans: list[SpanInput]) -> list[tuple[int | None, int, str]]:
        return [(s.start, s.end, s.text[s.start : s.end]) for s in spans]

    assert names_of(full) == names_of(written[0])

    plain = entity_encoder.embed_queries(names)  # type: ignore[attr-defined]
    expanded = expanded_queries(entity_encoder, names, written)  # type: ignore[arg-type]
    assert np.allclose(np.linalg.norm(expanded, axis=1), 1.0, atol=1e-5)
    for row, spans in enumerate(written):
        centre = entity_encoder.embed_mentions(spans).mean(axis=0)  # type: ignore[attr-defined]
        assert expanded[row] @ centre > plain[row] @ centre
        # still the description's own query, not the other one's
        assert expanded[row] @ plain[row] > expanded[row] @ plain[1 - row]
    # with nothing written, the description's vector is the query
    alone = expanded_queries(entity_encoder, names[:1], [[]])  # type: ignore[arg-type]
    assert np.allclose(alone[0], plain[0], atol=1e-5)
    with pytest.raises(InvalidArgumentError, match="exemplar lists"):
        expanded_queries(entity_encoder, names, written[:1])  # type: ignore[arg-type]


def test_the_search_command_takes_exemplars_only_for_entity_vectors(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["search", "party", "--store", str(tmp_path / "store"), "--exemplars"]
    )
    assert result.exit_code != 0
    assert result.output.startswith("Error: --exemplars")
    assert "not an entity vector" in result.output
