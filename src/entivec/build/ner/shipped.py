"""The NER adapters this repository's recipe trained, versioned beside it.

Training the joint adapter and the six specialisations takes a quarter of an hour or
more on two cores (docs/setup.md), and the result is small: 2.7 MB an adapter, its
weights stored in fp16 (they tag 6,000 WikiANN ``val`` sentences exactly as the fp32
weights they were trained as, through the ONNX export too). So the
registry that ``entivec train lora`` built from the six WikiANN ``train`` splits is kept
in ``trained/``. When ``train lora`` is asked for an adapter that this copy holds with
the same training sentences (the digest of their language, tokens and spans), the same
recipe and the same base model, it installs the copy, checksums checked, instead of
training, and says so; ``--retrain`` trains it all the same. Anything else (other data,
another budget, another base model) is trained as before.

tests/build/test_ner_shipped.py checks that the copy is the current recipe's, and that an
adapter trained again here tags as the shipped one does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from entivec.ner.adapters import MANIFEST, AdapterRegistry, write_entry
from entivec.records import Sentence

log = logging.getLogger(__name__)

SHIPPED_ADAPTERS = Path(__file__).parent / "trained"
# what an adapter's manifest entry must hold, equal, for it to stand for a training run
RECIPE_KEYS = (
    "data_sha256",
    "sentences",
    "steps",
    "batch_size",
    "learning_rate",
    "starts_from",
    "written_share",
    "lora",
)


def training_digest(sentences: Sequence[Sentence]) -> str:
    """sha256 of what an adapter learns from: each sentence's language, tokens and spans,
    in order (not the files' bytes: the same sentences read from a moved or re-encoded
    file are the same data)."""
    digest = hashlib.sha256()
    for s in sentences:
        spans = [[span.start, span.end, span.type] for span in s.spans]
        line = json.dumps([s.language, list(s.tokens), spans], ensure_ascii=False)
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def recipe(info: dict[str, Any]) -> dict[str, Any]:
    """The part of an adapter's recorded ``info`` that says how and on what it was
    trained."""
    return {key: info.get(key) for key in RECIPE_KEYS}


def shipped_registry() -> AdapterRegistry | None:
    """The shipped adapters, ``None`` when this installation has none."""
    if not (SHIPPED_ADAPTERS / MANIFEST).is_file():
        return None
    return AdapterRegistry(SHIPPED_ADAPTERS)


def shipped_copy(
    name: str, wanted: dict[str, Any], *, labels: list[str], base_model: dict[str, Any]
) -> AdapterRegistry | None:
    """The shipped registry when it holds adapter ``name`` trained as ``wanted`` says
    (:func:`recipe`), for the same labels and base model; ``None`` otherwise."""
    registry = shipped_registry()
    if registry is None or name not in registry.names:
        return None
    if registry.labels != labels or registry.base_model != base_model:
        # a base model converted differently here: training is right, but say why it is slow
        log.warning(
            "the shipped adapters were trained on another base model or label set (%s); "
            "training adapter %s here",
            registry.base_model.get("model.safetensors", "?")[:12],
            name,
        )
        return None
    if recipe(registry.entry(name).info) != wanted:
        return None
    return registry


def install(
    registry: AdapterRegistry,
    name: str,
    out: Path,
    *,
    labels: list[str],
    base_model: dict[str, Any],
) -> dict[str, Any]:
    """Copy adapter ``name`` from ``registry`` into the registry ``out``; returns its info.

    The copy is written beside its place and renamed into it, so an interrupted install
    leaves the adapter either whole or absent, never half-copied under its name.
    """
    source = registry.verified_folder(name)
    folder = out / name
    partial = out / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    info = {**registry.entry(name).info, "installed_from": "shipped"}
    write_entry(out, name, labels=labels, base_model=base_model, info=info)
    return info
