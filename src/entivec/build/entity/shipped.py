"""The entity projection this repository's recipe trained, versioned beside it.

Extracting SmolLM2's value vectors for CrossNER's mentions and training the projection
takes minutes on two cores, and the result is a 2 MB file. So the projection that
``entivec train entity`` learned from the six CrossNER ``train`` files (the five domains
and CoNLL-2003, held-out types left out) is kept in ``trained/`` with its manifest. When
``train entity`` is asked for a projection with the same mentions (training and dev
fingerprints), the same recipe and the same SmolLM2 weights, it installs the copy
instead of training, and says so; ``--retrain`` trains it all the same.

tests/build/test_entity_shipped.py checks that the copy is the current recipe's, and that
a projection trained again here ranks types as the shipped one does.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from entivec.models import sha256

SHIPPED_PROJECTION = Path(__file__).parent / "trained"
FILES = ("projection.safetensors", "manifest.json")


def shipped_manifest() -> dict[str, Any] | None:
    """The shipped projection's manifest, ``None`` when this installation has none."""
    path = SHIPPED_PROJECTION / "manifest.json"
    if not path.is_file():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def shipped_match(
    fingerprint: dict[str, str], recipe: dict[str, Any], source_weights: str
) -> dict[str, Any] | None:
    """The shipped manifest when it was trained on the same mentions, by the same recipe,
    from the same SmolLM2 weights, and its projection file is the one it names."""
    manifest = shipped_manifest()
    if manifest is None:
        return None
    same = (
        manifest.get("fingerprint") == fingerprint
        and manifest.get("recipe") == recipe
        and manifest.get("source_weights") == source_weights
    )
    projection = SHIPPED_PROJECTION / "projection.safetensors"
    if not same or sha256(projection) != manifest.get("projection_sha256"):
        return None
    return manifest


def install(manifest: dict[str, Any], out: Path) -> dict[str, Any]:
    """Copy the shipped projection into ``out``; returns the manifest written there.

    The copy is made beside ``out`` and renamed into place, so an interrupted install
    leaves the previous state or the whole copy, never a projection without its manifest.
    """
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    shutil.copy2(SHIPPED_PROJECTION / "projection.safetensors", partial)
    installed = {**manifest, "installed_from": "shipped"}
    (partial / "manifest.json").write_text(json.dumps(installed, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return installed
