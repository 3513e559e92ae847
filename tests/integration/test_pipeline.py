"""The pipeline with the hashed test plugins on the real engines and the real loaders:
ingest (and its kill -9 resume), search, routing mechanics, fusion, errors and the CLI.

The fast tier: no prepared model, a few seconds a test. What a real model adds (its
quality, its artefacts) is tested beside each real plugin.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from click.testing import CliRunner

from entivec.api import Entivec
from entivec.cli import cli
from entivec.errors import InvalidArgumentError
from entivec.store import PointRecord
from entivec.store.edge import EdgeStore
from tests.hashed_encoder import DELAY_VARIABLE
from tests.integration.interrupt import kill_partway

pytestmark = pytest.mark.usefixtures("hashed_plugins")
ROOT = Path(__file__).resolve().parents[2]


def _val(data_dir: Path, language: str) -> Path:
    return data_dir / "wikiann" / language / "val.conllu"


def _snapshot(directory: Path) -> dict[str, PointRecord]:
    with EdgeStore(directory, collection="entivec") as store:
        return {p.id: p for p in store.points()}


@pytest.fixture(scope="module")
def three_languages(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """An Edge store of 200 val sentences each of de, es and nl, sentence and mention
    points of the hashed plugins. Built once; tests open it read-only."""
    from entivec.registry import get_registry
    from tests import hashed_encoder

    if "hashed" not in [s.name for s in get_registry().encoders]:
        hashed_encoder.register(get_registry())
    folder = tmp_path_factory.mktemp("three")
    with Entivec(folder) as ev:
        for language in ("de", "es", "nl"):
            ev.ingest(
                "wikiann",
                [_val(data_dir, language)],
                plugins=("hashed", "hashed_mention"),
                limit=200,
                show_progress=False,
            )
    return folder


def test_a_stored_sentence_is_its_own_nearest_neighbour(three_languages: Path) -> None:
    with Entivec(three_languages) as ev:
        first = next(p for p in ev.store.points() if "span" not in p.payload)
        hits = ev.search_sentences(first.payload["text"], k=3, vector="hashed")
    assert hits[0].payload["text"] == first.payload["text"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_a_language_filter_returns_only_that_language(three_languages: Path) -> None:
    with Entivec(three_languages) as ev:
        for language in ("de", "es", "nl"):
            hits = ev.search_sentences("Fußballverein", k=10, language=language, vector="hashed")
            assert len(hits) == 10 and {h.payload["language"] for h in hits} == {language}
        assert ev.languages() == ["de", "es", "nl"]


def test_entity_search_returns_each_sentence_once_and_filters_by_type(
    three_languages: Path,
) -> None:
    with Entivec(three_languages) as ev:
        hits = ev.search_entities("Berlin", k=20, vector="hashed_mention")
        sentences = [h.payload["sentence_id"] for h in hits]
        assert len(hits) == 20 and len(set(sentences)) == 20
        assert all("span" in h.payload for h in hits)
        assert all(a.score >= b.score for a, b in itertools.pairwise(hits))
        people = ev.search_entities("Berlin", k=10, vector="hashed_mention", entity_type="PER")
        assert people and {h.payload["entity_type"] for h in people} == {"PER"}


def test_fusion_ranks_sentences_found_by_either_vector(three_languages: Path) -> None:
    with Entivec(three_languages) as ev:
        mentions = ev.search_entities("Berlin", k=10, vector="hashed_mention")
        fused = ev.search_entities("Berlin", k=10, vector="hashed_mention", fuse_with="hashed")
        sentences = ev.search_sentences("Berlin", k=10, vector="hashed")
        with pytest.raises(InvalidArgumentError, match="takes a sentence vector"):
            ev.search_entities("Berlin", vector="hashed_mention", fuse_with="hashed_mention")
    keys = [(h.payload["corpus"], h.payload["sentence_id"]) for h in fused]
    assert len(fused) == 10 and len(set(keys)) == 10
    assert all(a.score >= b.score for a, b in itertools.pairwise(fused))
    # the fusion's first sentence is the first of one of the two rankings
    assert fused[0].payload["sentence_id"] in {
        mentions[0].payload["sentence_id"],
        sentences[0].payload["sentence_id"],
    }


def test_routing_takes_the_neighbours_language(three_languages: Path, data_dir: Path) -> None:
    with Entivec(three_languages) as ev:
        stored = [p.payload for p in ev.store.points() if "span" not in p.payload][:30]
        routes = ev.route([p["text"] for p in stored], vector="hashed", k=1)
        assert [r.language for r in routes] == [p["language"] for p in stored]
        assert all(r.routed and r.source == "neighbours" and r.kept == 1 for r in routes)
        # k neighbours, each vote recorded with its payload's language; the longest text
        # is its own nearest neighbour (short ones, names, recur in other languages)
        longest = max(stored, key=lambda p: len(p["text"]))
        route = ev.route(longest["text"], vector="hashed", k=5, threshold=0.0)[0]
        assert len(route.neighbours) == 5 and route.neighbours[0].text == longest["text"]
        assert route.kept == 5 and route.confidence == pytest.approx(
            sum(n.language == route.language for n in route.neighbours) / 5
        )
        # one agreeing neighbour is not enough for a route unless asked for
        alone = ev.route(longest["text"], vector="hashed", k=1, min_votes=2)[0]
        assert alone.routed  # min_votes is capped at k
        lone = ev.route(longest["text"], vector="hashed", k=5, threshold=0.999, wide=False)[0]
        assert (lone.outcome, lone.language, lone.kept) == ("too_few_votes", None, 1)
        # a threshold above every similarity leaves texts unrouted, none guessed
        high = ev.route("Berlin Hauptstadt", vector="hashed", threshold=1.01, wide=False)[0]
        assert (high.language, high.outcome, high.source) == (None, "below_threshold", None)
        # unless the wide identifier is sure enough, and then it says it answered
        named = ev.route("Berlin ist die Hauptstadt", vector="hashed", threshold=1.01)[0]
        assert (named.language, named.outcome, named.routed) == ("de", "below_threshold", False)
        assert named.source == "fasttext" and 0.3 <= named.confidence <= 1
        # no n-gram at all: nothing to search with
        assert ev.route("   ", vector="hashed")[0].outcome == "no_features"


def test_a_language_outside_the_index_is_named_not_replaced(three_languages: Path) -> None:
    """The index holds de, es and nl: a French or Italian sentence gets its own language
    from the wide identifier (never the nearest indexed one), a German one the vote."""
    texts = [
        "La Tour Eiffel a accueilli plus de six millions de visiteurs l'an dernier.",
        "Il sindaco di Roma ha chiesto nuovi fondi al governo per i musei.",
        "Die Partei wurde im Jahr 1990 in Berlin gegründet.",
    ]
    with Entivec(three_languages) as ev:
        french, italian, german = ev.route(texts, vector="hashed")
        alone = ev.route(texts[0], vector="hashed", wide=False)[0]
    assert (french.language, french.outcome, french.source) == ("fr", "outside_index", "fasttext")
    assert (italian.language, italian.outcome) == ("it", "outside_index")
    assert german.language == "de" and german.outcome != "outside_index"
    assert alone.language != "fr"  # what the neighbours alone would say


def test_an_empty_collection_routes_nothing(tmp_path: Path) -> None:
    with Entivec(tmp_path) as ev:
        route = ev.route("Die Partei", vector="hashed")[0]
    assert route.outcome == "empty_collection" and route.language is None


def _hashed_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.hashed_encoder", *args]


LIMIT = 3000


def _ingest_args(data_dir: Path, store: Path) -> list[str]:
    return [
        "ingest", "wikiann", str(_val(data_dir, "nl")), "--store", str(store),
        "--plugin", "hashed", "--limit", str(LIMIT), "--batch-size", "32", "--window", "64",
    ]  # fmt: skip


def test_killed_ingestion_resumes_to_the_same_points(tmp_path: Path, data_dir: Path) -> None:
    interrupted = tmp_path / "interrupted"
    # each window takes a little while, so the kill lands mid-run on any machine
    env = {**os.environ, DELAY_VARIABLE: "0.05"}
    kill_partway(_hashed_cli(*_ingest_args(data_dir, interrupted)), LIMIT, cwd=ROOT, env=env)

    again = subprocess.run(
        _hashed_cli(*_ingest_args(data_dir, interrupted), "--json"),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["skipped"] > 0, "the second run should reuse what the first one stored"
    assert report["skipped"] + report["encoded"] == LIMIT and report["points"] == LIMIT

    clean = tmp_path / "clean"
    result = CliRunner().invoke(cli, ["-q", *_ingest_args(data_dir, clean)])
    assert result.exit_code == 0, result.output
    resumed, fresh = _snapshot(interrupted), _snapshot(clean)
    assert resumed.keys() == fresh.keys()
    for point_id, point in fresh.items():
        assert resumed[point_id].payload == point.payload
        assert np.array_equal(
            cast("list[float]", resumed[point_id].vectors["hashed"]),
            cast("list[float]", point.vectors["hashed"]),
        )


def test_ingesting_twice_adds_nothing(tmp_path: Path, data_dir: Path) -> None:
    with Entivec(tmp_path) as ev:
        first, _ = ev.ingest("wikiann", [_val(data_dir, "es")], plugins=("hashed",), limit=80)
        second, _ = ev.ingest("wikiann", [_val(data_dir, "es")], plugins=("hashed",), limit=80)
    assert first.encoded == 80 and second.skipped == 80 and second.encoded == 0
    assert second.points == 80


def test_cli_ingest_search_and_route(tmp_path: Path, data_dir: Path) -> None:
    store = str(tmp_path / "s")
    runner = CliRunner()
    empty = runner.invoke(cli, ["search", "ciudad", "--store", store, "--vector", "hashed"])
    assert empty.exit_code == 1 and "ingest something first" in empty.output
    for language in ("es", "de"):
        ingested = runner.invoke(
            cli,
            ["-q", "ingest", "wikiann", str(_val(data_dir, language)), "--store", store,
             "--plugin", "hashed", "--limit", "60"],
        )  # fmt: skip
        assert ingested.exit_code == 0, ingested.output
    found = runner.invoke(
        cli,
        ["search", "ciudad", "--store", store, "--vector", "hashed", "-k", "3",
         "--language", "es", "--json"],
    )  # fmt: skip
    hits = json.loads(found.output)
    assert len(hits) == 3 and all(h["language"] == "es" for h in hits)
    assert hits[0]["score"] >= hits[-1]["score"]
    text = runner.invoke(
        cli, ["search", "ciudad", "--store", store, "--vector", "hashed", "-k", "2"]
    )
    assert text.exit_code == 0 and text.output.count("[") >= 2
    routed = runner.invoke(
        cli, ["route", hits[0]["text"], "--store", store, "--vector", "hashed", "--json"]
    )
    assert json.loads(routed.output)[0]["language"] == "es"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "x", "--vector", "nope"], "no encoder plugin fills the vector 'nope'"),
        (["search", "x", "--vector", "hashed", "--exemplars"], "is not an entity vector"),
        (["search", "x", "--vector", "hashed", "--fuse-with", "e5"], "is not an entity vector"),
        (["route", "x", "--vector", "hashed", "-k", "0"], "Invalid value for '-k'"),
    ],
)
def test_bad_queries_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--store", str(tmp_path / "s")])
    assert result.exit_code in (1, 2)
    assert message in result.output
    if result.exit_code == 1:
        assert result.output.strip().count("\n") == 0


def test_a_repeated_sentence_is_shown_once(tmp_path: Path, data_dir: Path) -> None:
    """WikiANN repeats sentences across files; a search shows each text once unless asked."""
    lines = _val(data_dir, "es").read_text(encoding="utf-8").split("\n\n")[:5]
    for folder in ("a", "b"):
        copy = tmp_path / folder / "es" / "val.conllu"
        copy.parent.mkdir(parents=True)
        copy.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    store = str(tmp_path / "s")
    runner = CliRunner()
    for folder in ("a", "b"):
        args = ["-q", "ingest", "wikiann", str(tmp_path / folder / "es" / "val.conllu")]
        done = runner.invoke(
            cli, [*args, "--store", store, "--plugin", "hashed", "--corpus", folder]
        )
        assert done.exit_code == 0, done.output
    query = ["search", "ciudad", "--store", store, "--vector", "hashed", "-k", "5", "--json"]
    distinct = json.loads(runner.invoke(cli, query).output)
    every = json.loads(runner.invoke(cli, [*query, "--duplicates"]).output)
    assert len(distinct) == 5 and len({h["text"] for h in distinct}) == 5
    assert len({h["text"] for h in every}) < len(every) == 5


def test_languages_that_routing_gave_never_vote(tmp_path: Path) -> None:
    from entivec.annotation.routing import Router
    from tests.hashed_encoder import HashedEncoder

    encoder = HashedEncoder()
    # guesses of routing itself (by the vote, the wide identifier, the document), nearest
    # to the query, and one labelled sentence
    guessed = {"routed": "Die Stadt liegt am Rhein", "fasttext": "Die Stadt liegt am Rhein!",
               "document": "Die Stadt liegt am Rhein?"}  # fmt: skip
    texts = [*guessed.values(), "Die Stadt liegt am Rhein ."]
    with EdgeStore(tmp_path, collection="c") as store:
        from entivec.store import VectorSchema

        store.ensure_schema([VectorSchema("hashed", 256, "cosine")])
        vectors = encoder.embed_passages(texts)
        store.upsert(
            [
                PointRecord(f"00000000-0000-0000-0000-00000000000{i}",
                            {"hashed": vectors[i].tolist()},
                            {"language": "ru", "language_source": source, "text": texts[i]})
                for i, source in enumerate(guessed)
            ]
            + [
                PointRecord("00000000-0000-0000-0000-000000000009", {"hashed": vectors[3].tolist()},
                            {"language": "de", "language_source": "path", "text": texts[3]}),
            ]
        )  # fmt: skip
        store.finish()
        router = Router(store, encoder, vector="hashed", k=5, min_votes=1)
        [route] = router.route([texts[0]])
    assert (route.language, route.kept) == ("de", 1)
    assert [n.language for n in route.neighbours] == ["de"]


def test_hybrid_search_finds_a_rare_word_and_needs_the_bm25_vector(
    tmp_path: Path, data_dir: Path
) -> None:
    store = str(tmp_path / "s")
    runner = CliRunner()
    for language in ("es", "de"):
        ingested = runner.invoke(
            cli,
            ["-q", "ingest", "wikiann", str(_val(data_dir, language)), "--store", store,
             "--plugin", "hashed", "--plugin", "bm25", "--limit", "150"],
        )  # fmt: skip
        assert ingested.exit_code == 0, ingested.output
    with Entivec(store) as ev:
        texts = [p.payload["text"] for p in ev.store.points()]
        assert all("bm25" in p.vectors for p in ev.store.points())
    words = [w for text in texts for w in text.split() if len(w) > 6 and w.isalpha()]
    rare = next(w for w in words if sum(w in t.split() for t in texts) == 1)
    query = ["search", rare, "--store", store, "--vector", "hashed", "-k", "3", "--json"]
    hybrid = json.loads(runner.invoke(cli, [*query, "--hybrid"]).output)
    assert any(rare in h["text"].split() for h in hybrid)
    assert all(a["score"] >= b["score"] for a, b in itertools.pairwise(hybrid))
    german = json.loads(runner.invoke(cli, [*query, "--hybrid", "--language", "de"]).output)
    assert german and {h["language"] for h in german} == {"de"}
    plain = str(tmp_path / "plain")
    runner.invoke(
        cli,
        ["-q", "ingest", "wikiann", str(_val(data_dir, "es")), "--store", plain,
         "--plugin", "hashed", "--limit", "20"],
    )  # fmt: skip
    refused = runner.invoke(
        cli, ["search", rare, "--store", plain, "--vector", "hashed", "--hybrid"]
    )
    assert refused.exit_code == 1 and "--plugin bm25" in refused.output
    assert refused.output.strip().count("\n") == 0
    mention = runner.invoke(
        cli, ["search", rare, "--store", plain, "--vector", "hashed_mention", "--hybrid"]
    )
    assert mention.exit_code == 1 and "is a mention vector" in mention.output
