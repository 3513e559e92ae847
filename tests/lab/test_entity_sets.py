"""The held-out-type sweep's pieces: its sets and its fusion, which must rank as
``search_entities(..., fuse_with="e5")`` does in the store."""

from __future__ import annotations

from pathlib import Path

from entivec.lab.entity_sets import SET_SIZE, _fused, held_out_sets
from entivec.loaders import load
from entivec.loaders.crossner import HELD_OUT_TYPES
from entivec.query.search import fuse_by_sentence
from entivec.store import Hit


def test_the_sets_are_the_shipped_one_then_seeded_draws(data_dir: Path) -> None:
    dev = list(load("conll", sorted((data_dir / "crossner").glob("*/dev.txt")), language="en"))
    sets = held_out_sets(dev, 3)
    assert sets[0] == tuple(sorted(HELD_OUT_TYPES))
    assert len(set(sets)) == 4 and all(len(s) == SET_SIZE for s in sets[1:])
    assert held_out_sets(dev, 3) == sets  # the same draws every time
    assert all("misc" not in s for s in sets)


def test_the_sweep_fuses_as_the_store_path_does() -> None:
    entity = [3, 1, 4, 5, 9, 2]
    e5 = [2, 7, 1, 8, 3]

    def hits(ranking: list[int]) -> list[Hit]:
        return [
            Hit(str(s), 1.0 - i / 10, {"corpus": "c", "sentence_id": str(s)})
            for i, s in enumerate(ranking)
        ]

    depth = 4
    store_path = fuse_by_sentence([hits(entity[:depth]), hits(e5[:depth])], k=10)
    assert [int(h.payload["sentence_id"]) for h in store_path] == _fused(entity, e5, depth)
