"""Routing by neighbours' language payloads, on the real lang vector and Qdrant Edge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from entivec.annotation.langid import LinguaIdentifier
from entivec.annotation.routing import Neighbour, vote
from entivec.api import Entivec
from entivec.cli import cli
from entivec.lab.routing import evaluate_routing, length_bucket
from entivec.loaders import load
from tests.conftest import WIKIANN_LANGUAGES

ROUTED_PER_LANGUAGE = 150


def _n(language: str, score: float) -> Neighbour:
    return Neighbour(id=f"{language}{score}", language=language, score=score, text="")


def test_vote_takes_the_mode_of_kept_neighbours() -> None:
    neighbours = [_n("de", 0.9), _n("nl", 0.8), _n("de", 0.7), _n("en", 0.6)]
    assert vote(neighbours, 0.65) == ("routed", "de", 2 / 3, 3)


def test_vote_refuses_ties_and_low_similarity() -> None:
    assert vote([_n("de", 0.9), _n("nl", 0.8)], 0.5)[:2] == ("tie", None)
    assert vote([_n("de", 0.6), _n("de", 0.5)], 0.7) == ("below_threshold", None, 0.0, 0)


def test_one_neighbour_above_tau_is_not_a_route_when_two_must_agree() -> None:
    # the emoji-only text of the issue: one Russian neighbour above τ, the rest below
    lone = [_n("ru", 0.8), _n("de", 0.3), _n("en", 0.2)]
    assert vote(lone, 0.5, min_votes=2) == ("too_few_votes", None, 0.0, 1)
    assert vote(lone, 0.5, min_votes=1) == ("routed", "ru", 1.0, 1)
    assert vote([_n("ru", 0.8), _n("ru", 0.7), _n("de", 0.6)], 0.5, 2)[:2] == ("routed", "ru")


def test_length_buckets_follow_the_issue() -> None:
    assert [length_bucket(n) for n in (1, 3, 4, 8, 9, 40)] == [
        "1-3", "1-3", "4-8", "4-8", "9+", "9+"
    ]  # fmt: skip


@pytest.fixture
def indexed(routing_store: Entivec) -> Entivec:
    return routing_store


@pytest.fixture(scope="module")
def val_sentences(data_dir: Path) -> list[object]:
    return [
        s
        for lang in WIKIANN_LANGUAGES
        for s in load(
            "wikiann", [data_dir / "wikiann" / lang / "val.conllu"], limit=ROUTED_PER_LANGUAGE
        )
    ]


def test_routing_beats_lingua_on_real_val_sentences(
    indexed: Entivec, val_sentences: list[object]
) -> None:
    texts = [s.text for s in val_sentences]  # type: ignore[attr-defined]
    gold = [s.language for s in val_sentences]  # type: ignore[attr-defined]
    routes = indexed.route(texts)
    routed = np.mean([r.language == g for r, g in zip(routes, gold, strict=True)])
    lingua = LinguaIdentifier(WIKIANN_LANGUAGES)
    baseline = np.mean([lingua.identify(t) == g for t, g in zip(texts, gold, strict=True)])
    assert routed >= 0.8
    assert routed > baseline
    # confidence is the winning share of the neighbours that voted
    for r in routes:
        if r.routed:
            votes = [n.language for n in r.neighbours if n.score >= indexed.router().threshold]
            assert r.language is not None
            assert r.confidence == pytest.approx(votes.count(r.language) / len(votes))


def test_routes_come_from_stored_payloads(indexed: Entivec) -> None:
    [route] = indexed.route("Die Stadt liegt am Rhein und hat eine Universität .")
    assert route.language == "de" and route.routed
    assert len(route.neighbours) == 5
    assert route.confidence >= 0.6
    assert all(n.language in WIKIANN_LANGUAGES and n.text for n in route.neighbours)


def test_a_high_threshold_leaves_texts_unrouted_unless_a_fallback_answers(
    indexed: Entivec,
) -> None:
    text = "Die Stadt liegt am Rhein und hat eine Universität ."
    [strict] = indexed.route(text, threshold=1.01, wide=False)
    assert (strict.language, strict.outcome, strict.source) == (None, "below_threshold", None)
    [wide] = indexed.route(text, threshold=1.01)  # the wide identifier answers, and says so
    assert (wide.language, wide.outcome, wide.source) == ("de", "below_threshold", "fasttext")
    [rescued] = indexed.route(text, threshold=1.01, fallback="lingua")
    assert (rescued.language, rescued.outcome, rescued.source) == (
        "de",
        "below_threshold",
        "lingua",
    )
    assert not rescued.routed


def test_languages_outside_the_index_are_named_not_replaced(indexed: Entivec) -> None:
    """The six-language index would send French to Spanish or English: the wide
    identifier names it, and the six keep their vote."""
    texts = [
        "La ville compte plus de deux millions d'habitants et trois universités.",
        "Il museo ha riaperto le sue porte dopo due anni di lavori.",
        "A cidade fica no litoral e tem muitas praias bonitas.",
        "Město leží na řece a má velkou univerzitu.",
        "Die Stadt liegt am Rhein und hat eine Universität.",
    ]
    french, italian, portuguese, czech, german = indexed.route(texts)
    assert [r.language for r in (french, italian, portuguese, czech)] == ["fr", "it", "pt", "cs"]
    assert all(r.outcome == "outside_index" and r.source == "fasttext" for r in (french, czech))
    assert (german.language, german.outcome) == ("de", "routed")
    [alone] = indexed.route(texts[0], wide=False)
    # the vote alone can only pick one of the six, or none
    assert alone.language is None or alone.language in WIKIANN_LANGUAGES


def test_the_wide_identifier_never_overrules_the_label_of_the_same_text(
    indexed: Entivec,
) -> None:
    """Names read as English or French by fastText ("Ghost in the Shell : Stand Alone
    Complex" in German WikiANN) keep the language the index holds them under."""
    router = indexed.router()
    assert router.wide is not None
    stored = [p.payload for p in indexed.store.points()]
    wide = router.wide
    named = [(p, wide.top(p["text"])) for p in stored]
    outside = [p for p, top in named if top and router._outside(p["text"], *top)][:20]
    assert len(outside) >= 5
    routes = indexed.route([p["text"] for p in outside], k=1)
    assert [r.language for r in routes] == [p["language"] for p in outside]
    assert all(r.outcome == "routed" and r.source == "neighbours" for r in routes)
    # the exact copy is what holds the label: without it, fastText's answer stands
    alone = router.route([p["text"] + " " + p["text"] for p in outside])
    assert any(r.outcome == "outside_index" for r in alone)


def test_text_without_known_ngrams_is_not_routed(indexed: Entivec) -> None:
    [route] = indexed.route("")
    assert route.outcome == "no_features" and route.language is None


def test_text_without_letters_or_with_one_neighbour_is_not_routed(indexed: Entivec) -> None:
    # the issue's emoji-only text; a lone neighbour above τ (the "!!!" of WikiANN ru)
    emoji, digits, marks = indexed.route(["😀😀😀", "12345", "!!!"])
    assert (emoji.outcome, emoji.language) == ("no_letters", None)
    assert digits.language is None and marks.language is None
    [word] = indexed.route("Berlin")
    assert word.routed


def test_an_empty_collection_routes_by_the_shipped_index(
    tmp_path: Path, lang_encoder: object
) -> None:
    from entivec.models import routing_index_dir

    text = "Het is een gemeente in Nederland ."
    with Entivec(tmp_path / "empty") as ev:
        ev.loaded.encoders["lang"] = lang_encoder  # type: ignore[assignment]
        [alone] = ev.route(text, index=ev.store)  # nothing to vote with
        [shipped] = ev.route(text)  # the collection holds no labelled lang vectors
    assert alone.outcome == "empty_collection" and alone.language is None
    assert (shipped.language, shipped.outcome) == ("nl", "routed")
    assert shipped.index is not None and str(routing_index_dir()) in shipped.index


def test_eval_routing_reports_every_method_on_the_same_sentences(
    indexed: Entivec, data_dir: Path
) -> None:
    paths = [data_dir / "wikiann" / lang / "val.conllu" for lang in WIKIANN_LANGUAGES]
    result = evaluate_routing(indexed, "wikiann", paths, limit=50, show_progress=False)
    assert result["sentences"] == 300
    assert sum(result["length_buckets"].values()) == 300
    methods = {m["method"]: m for m in result["methods"]}
    peers = {"lingua", "langdetect", "fasttext", "cld2", "py3langid"}
    assert set(methods) == (
        peers
        | {"lang top-5", "lang top-5 + wide fastText"}
        | {f"lang top-5 + {p} fallback" for p in peers}
    )
    assert result["overall"]["accuracy"] == methods["lang top-5"]["accuracy"]
    assert all(set(methods[p]["by_language"]) == set(WIKIANN_LANGUAGES) for p in peers)
    assert methods["lang top-5 + lingua fallback"]["no_answer"] == 0.0


@pytest.mark.models
def test_cli_ingests_routes_and_explains_mistakes(tmp_path: Path, data_dir: Path) -> None:
    store = str(tmp_path / "cli")
    runner = CliRunner()
    for lang in WIKIANN_LANGUAGES:
        path = str(data_dir / "wikiann" / lang / "train.conllu")
        done = runner.invoke(
            cli, ["-q", "ingest", "wikiann", path, "--store", store, "--plugin", "lang",
                  "--limit", "300"]
        )  # fmt: skip
        assert done.exit_code == 0, done.output
    result = runner.invoke(cli, ["route", "Это река в Сибири .", "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    [route] = json.loads(result.output)
    assert route["language"] == "ru" and route["outcome"] == "routed"
    assert len(route["neighbours"]) == 5
    missing = runner.invoke(cli, ["route", "x", "--store", store, "--vector", "nope"])
    assert missing.exit_code == 1
    assert "no encoder plugin fills the vector 'nope'" in missing.output
