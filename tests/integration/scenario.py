"""One ingest-and-search scenario, run against every engine and compared.

It ingests 100 WikiANN ``val`` sentences per language with the real e5 plugin and runs
searches in several languages, with and without a ``language`` filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


@dataclass
class ScenarioResult:
    points: int
    hits: list[list[Hit]]


def run_scenario(store: Store, data_dir: Path, encoder: object) -> ScenarioResult:
    ev = Entivec(store)
    ev._encoders["e5"] = encoder  # type: ignore[assignment]  # share the session's model
    for language in WIKIANN_LANGUAGES:
        ev.ingest(
            "wikiann",
            [data_dir / "wikiann" / language / "val.conllu"],
            limit=PER_LANGUAGE,
            show_progress=False,
        )
    hits = [ev.search_sentences(text, k=10, language=lang) for text, lang in QUERIES]
    return ScenarioResult(store.count(), hits)


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
