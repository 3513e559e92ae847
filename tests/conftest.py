"""Shared fixtures: the real data folder, the hashed test plugins, and, loaded once per
session, the real models.

Two tiers. A test that needs a prepared or trained model carries the ``models`` marker:
those that use a real-model fixture get it here, the others say so themselves. The rest,
the fast tier (``./run test --fast``, or ``pytest -m "not models"``), needs no artefact.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from entivec.query.language_model import LanguageModel
from entivec.query.prompts import Example
from entivec.records import Sentence, Span
from entivec.registry import get_registry
from tests import hashed_encoder

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
WIKIANN_LANGUAGES = ("de", "en", "es", "nl", "pl", "ru")
REAL_MODEL_FIXTURES = frozenset(
    {"lm", "e5_encoder", "entity_encoder", "lang_encoder", "routing_store"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.models)


@pytest.fixture(scope="session")
def hashed_plugins() -> Iterator[None]:
    """The ``hashed`` and ``hashed_mention`` test plugins, registered from the first test
    that asks for them to the end of the session."""
    registry = get_registry()
    hashed_encoder.register(registry)
    yield
    hashed_encoder.unregister(registry)


@pytest.fixture(scope="session")
def lm() -> LanguageModel:
    """SmolLM2-135M-Instruct, loaded once for every in-context test."""
    from entivec.models import model_dir

    folder = model_dir("smollm2-135m-instruct")
    if not (folder / "config.json").is_file():
        pytest.fail("SmolLM2 is not prepared: run `entivec models prepare` (./run test does)")
    return LanguageModel(folder, batch_size=4)


def blair_example() -> Example:
    """A toy sentence with two mentions; the example marks the second, ``Labour Party``."""
    sentence = Sentence(
        "s#1",
        ("Tony", "Blair", "led", "the", "Labour", "Party", "."),
        "en",
        (Span(0, 2, "politician"), Span(4, 6, "politicalparty")),
        corpus="toy",
    )
    return Example("s#1@4-6", sentence, 1)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"the real corpora are expected at {DATA} (../shared/data from the repo)")
    return DATA


@pytest.fixture(scope="session")
def e5_encoder() -> object:
    """The real e5 ONNX plugin, loaded once. The README's test command prepares it first."""
    from entivec.models import artefact_dir
    from entivec.plugins.e5 import load

    if not (artefact_dir("e5") / "model.onnx").is_file():
        pytest.fail(
            "the e5 artefact is not prepared: run `entivec models prepare` (./run test does)"
        )
    return load()


@pytest.fixture(scope="session")
def entity_encoder() -> object:
    """The real entity ONNX plugin, loaded once (./run test trains and exports it)."""
    from entivec.models import artefact_dir
    from entivec.plugins.entity import load

    if not (artefact_dir("entity") / "model.onnx").is_file():
        pytest.fail("the entity plugin is not trained: ./run test trains it (see the README)")
    return load()


@pytest.fixture(scope="session")
def lang_encoder() -> object:
    """The real `lang` routing vector, trained on the six WikiANN train splits by ./run."""
    from entivec.models import artefact_dir
    from entivec.plugins.lang import WEIGHTS, load

    if not (artefact_dir("lang") / WEIGHTS).is_file():
        pytest.fail(
            "the lang vector is not trained: run `entivec train routing wikiann "
            "../shared/data/wikiann/*/train.conllu` (./run test does)"
        )
    return load()


ROUTING_INDEX_PER_LANGUAGE = 2000


@pytest.fixture(scope="session")
def routing_store(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path, lang_encoder: object
) -> Iterator[object]:
    """A Qdrant Edge store of the first 2,000 train sentences of each WikiANN language,
    lang vector only: what routing retrieves from. Built once, shared read-only."""
    from entivec.api import Entivec
    from entivec.store.edge import EdgeStore

    ev = Entivec(EdgeStore(tmp_path_factory.mktemp("routing"), collection="routing"))
    ev.loaded.encoders["lang"] = lang_encoder  # type: ignore[assignment]
    for lang in WIKIANN_LANGUAGES:
        path = data_dir / "wikiann" / lang / "train.conllu"
        ev.ingest(
            "wikiann",
            [path],
            plugins=("lang",),
            limit=ROUTING_INDEX_PER_LANGUAGE,
            show_progress=False,
        )
    yield ev
    ev.close()


@pytest.fixture
def tmp_store_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "store"
