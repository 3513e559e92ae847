"""One ingest-and-search scenario, run against every engine and compared.

It ingests 100 WikiANN ``val`` sentences per language (with the real e5 and lang plugins,
or with the hashed test plugin alone), runs searches in several languages, with and
without a ``language`` filter, and routes texts by their neighbours' ``language``
payloads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from entivec.annotation.routing import Route
from entivec.api import Entivec
from entivec.store import Hit, Store
from tests.conftest import WIKIANN_LANGUAGES

PER_LANGUAGE = 100
QUERIES = (
    ("Fußballverein aus Deutschland", None),
    ("political party", None),
    ("река в России", "ru"),
    ("universidad en España", "es"),
    ("gemeente in Nederland", "nl"),
    ("miasto w Polsce", "pl"),
)


ROUTED_TEXTS = (
    "Die Partei wurde 1990 in Berlin gegründet .",
    "Het is een gemeente in de provincie Utrecht .",
    "Jest to miasto w województwie śląskim .",
    "Es un club de fútbol de la ciudad de Madrid .",
    "Это река в Сибири .",
    "He played for the club until his retirement .",
)


@dataclass
class ScenarioResult:
    points: int
    hits: list[list[Hit]]
    languages: list[str]
    routes: list[Route]


def run_scenario(
    store: Store,
    data_dir: Path,
    encoders: dict[str, object],
    *,
    search_vector: str = "e5",
    route_vector: str = "lang",
) -> ScenarioResult:
    """Ingest with the plugins named in ``encoders`` (loaded objects, shared with the
    session), search by ``search_vector`` and route by ``route_vector``."""
    ev = Entivec(store)
    for name, encoder in encoders.items():
        ev.loaded.encoders[name] = encoder  # type: ignore[assignment]
    for language in WIKIANN_LANGUAGES:
        ev.ingest(
            "wikiann",
            [data_dir / "wikiann" / language / "val.conllu"],
            plugins=tuple(encoders),
            limit=PER_LANGUAGE,
            show_progress=False,
        )
    hits = [
        ev.search_sentences(text, k=10, language=lang, vector=search_vector)
        for text, lang in QUERIES
    ]
    routes = ev.route(ROUTED_TEXTS, vector=route_vector)
    return ScenarioResult(store.count(), hits, ev.languages(), routes)


def assert_same_hits(a: ScenarioResult, b: ScenarioResult, *, min_overlap: float = 0.9) -> None:
    """Same ids in (nearly) the same order, scores within float tolerance."""
    assert a.points == b.points
    for hits_a, hits_b in zip(a.hits, b.hits, strict=True):
        ids_a, ids_b = [h.id for h in hits_a], [h.id for h in hits_b]
        assert len(set(ids_a) & set(ids_b)) >= min_overlap * len(ids_a)
        assert ids_a[0] == ids_b[0]
        scores_b = {h.id: h.score for h in hits_b}
        for h in hits_a:
            if h.id in scores_b:
                assert abs(h.score - scores_b[h.id]) < 1e-4
                assert h.payload == next(x.payload for x in hits_b if x.id == h.id)
    assert a.languages == b.languages
    assert [(r.language, r.outcome) for r in a.routes] == [
        (r.language, r.outcome) for r in b.routes
    ]
