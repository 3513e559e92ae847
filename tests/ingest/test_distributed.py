"""Encoding on a local two-worker Ray cluster writes what a single-process ingest writes,
and either run resumes the other's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from entivec.api import Entivec
from entivec.ingest.distributed import _shares
from entivec.store import Vector
from entivec.store.edge import EdgeStore

pytestmark = pytest.mark.models
PLUGINS = ("e5", "bm25")
LIMIT = 600


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray", reason="the distributed extra is not installed")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _points(folder: Path) -> dict[str, tuple[dict[str, Any], dict[str, Vector]]]:
    with EdgeStore(folder, collection="entivec") as store:
        return {p.id: (p.payload, p.vectors) for p in store.points()}


def _ingest(folder: Path, data_dir: Path, **options: Any) -> Any:
    files = [data_dir / "wikiann" / lang / "val.conllu" for lang in ("de", "ru")]
    with Entivec(folder) as ev:
        report, _ = ev.ingest(
            "wikiann",
            files,
            plugins=PLUGINS,
            root=data_dir,
            limit=LIMIT,
            show_progress=False,
            **options,
        )
    return report


def test_shares_cover_every_item_once_in_order() -> None:
    for n in (0, 1, 31, 32, 33, 1000, 1024):
        for workers in (1, 2, 3):
            shares = _shares(n, workers)
            assert len(shares) <= workers
            assert [i for start, stop in shares for i in range(start, stop)] == list(range(n))


@pytest.mark.usefixtures("ray_cluster")
def test_two_workers_store_what_one_process_stores(tmp_path: Path, data_dir: Path) -> None:
    alone = _ingest(tmp_path / "alone", data_dir, window=200)
    spread = _ingest(tmp_path / "spread", data_dir, window=200, workers=2)
    assert spread.encoded == alone.encoded == alone.sentences
    one, two = _points(tmp_path / "alone"), _points(tmp_path / "spread")
    assert sorted(one) == sorted(two)
    for point, (payload, vectors) in one.items():
        assert two[point][0] == payload  # encoded_by included: the same model versions
        assert two[point][1]["bm25"] == vectors["bm25"]
        a = np.asarray(cast("list[float]", vectors["e5"]))
        b = np.asarray(cast("list[float]", two[point][1]["e5"]))
        assert float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)) > 0.99999
    # a distributed rerun, and a single-process one, find everything stored
    again = _ingest(tmp_path / "alone", data_dir, window=200, workers=2)
    assert (again.encoded, again.skipped) == (0, alone.sentences)
    assert _ingest(tmp_path / "spread", data_dir, window=200).encoded == 0


@pytest.mark.usefixtures("ray_cluster")
def test_more_workers_than_cpus_is_refused_at_once(tmp_path: Path, data_dir: Path) -> None:
    from entivec.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="has 2 CPUs"):
        _ingest(tmp_path / "s", data_dir, workers=3)
    assert not (tmp_path / "s" / "entivec").exists()
