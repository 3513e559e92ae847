"""The LoRA adapter registry: a directory, a manifest, one sub-directory per adapter.

::

    adapters/
      entivec-adapters.json   base model, labels, adapter name -> folder + sha256 per file
      de/adapter_config.json, de/adapter_model.safetensors
      ...
      joint/...
      onnx/ner.onnx, onnx/de.onnx_adapter, ...   after `entivec export ner` (optional)

An adapter is selected by *name* (a routed language, or ``joint``); the name is looked up
in the manifest and only the folder the manifest gives is read, so a payload value can
never become a path. Every file is checked against its checksum before it is loaded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from entivec.errors import AdapterError
from entivec.models import sha256

MANIFEST = "entivec-adapters.json"
JOINT = "joint"
ONNX_FOLDER = "onnx"
ONNX_GRAPH = "ner.onnx"
ONNX_LAYOUT = "lora-inputs.json"
ONNX_ADAPTER_SUFFIX = ".onnx_adapter"
_FOLDER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_ONNX_FILE = re.compile(r"^[a-z][a-z0-9_-]{0,31}(\.onnx|\.onnx_adapter|\.json)$")


@dataclass(frozen=True)
class AdapterEntry:
    """One registered adapter."""

    name: str
    folder: Path
    files: dict[str, str]
    info: dict[str, Any]


class AdapterRegistry:
    """Read access to an adapter directory.

    Args:
        root: The registry directory.

    Raises:
        AdapterError: No manifest, or a manifest that names a folder outside ``root``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        manifest = self.root / MANIFEST
        if not manifest.is_file():
            raise AdapterError(
                f"{self.root} is not an adapter registry (no {MANIFEST}); train one with "
                "`entivec train lora`"
            )
        self.manifest: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        self.labels: list[str] = list(self.manifest["labels"])
        self.base_model: dict[str, Any] = dict(self.manifest["base_model"])
        self._entries: dict[str, AdapterEntry] = {}
        for name, entry in self.manifest.get("adapters", {}).items():
            folder = str(entry["folder"])
            if not _FOLDER.match(folder):
                raise AdapterError(
                    f"{manifest}: adapter {name!r} names an invalid folder {folder!r}"
                )
            self._entries[name] = AdapterEntry(
                name, self.root / folder, dict(entry["files"]), dict(entry.get("info", {}))
            )

    @property
    def names(self) -> list[str]:
        """Registered adapter names, sorted."""
        return sorted(self._entries)

    def entry(self, name: str) -> AdapterEntry:
        """The adapter registered as ``name``.

        Raises:
            AdapterError: ``name`` is not registered; the message lists what is.
        """
        try:
            return self._entries[name]
        except KeyError:
            raise AdapterError(
                f"no adapter registered for {name!r} in {self.root}; registered: "
                f"{', '.join(self.names) or 'none'}"
            ) from None

    def verified_folder(self, name: str) -> Path:
        """The folder of adapter ``name`` after checking every file's sha256.

        Raises:
            AdapterError: Unregistered, a file missing, or a checksum mismatch.
        """
        entry = self.entry(name)
        for file, expected in entry.files.items():
            path = entry.folder / file
            if not path.is_file():
                raise AdapterError(f"adapter {name!r}: {path} is missing")
            if sha256(path) != expected:
                raise AdapterError(
                    f"adapter {name!r}: {path} does not match its checksum in {MANIFEST} "
                    "(corrupt or replaced); retrain it with `entivec train lora`"
                )
        return entry.folder

    @property
    def onnx_export(self) -> dict[str, Any]:
        """The manifest's record of the ONNX export (empty when there is none)."""
        return dict(self.manifest.get("onnx", {}))

    def onnx_files(self) -> list[str]:
        """File names of the ONNX export (``ner.onnx``, ``de.onnx_adapter``, ...).

        Raises:
            AdapterError: The registry has no ONNX export.
        """
        export = self.onnx_export
        if not export:
            raise AdapterError(
                f"the adapters in {self.root} have no ONNX export; run "
                f"`entivec export ner --adapters {self.root}`"
            )
        return sorted(export["files"])

    def verified_onnx_file(self, file: str) -> Path:
        """The path of ``file`` of the ONNX export after checking its sha256.

        Raises:
            AdapterError: No export, a file the export does not list, a file missing or a
                checksum mismatch.
        """
        if file not in self.onnx_files():
            raise AdapterError(f"the ONNX export in {self.root} has no file {file!r}")
        if not _ONNX_FILE.match(file):
            raise AdapterError(f"{self.root / MANIFEST}: invalid ONNX file name {file!r}")
        path = self.root / ONNX_FOLDER / file
        if not path.is_file():
            raise AdapterError(f"the ONNX export is incomplete: {path} is missing")
        if sha256(path) != self.onnx_export["files"][file]:
            raise AdapterError(
                f"{path} does not match its checksum in {MANIFEST} (corrupt or replaced); "
                f"rebuild it with `entivec export ner --adapters {self.root} --force`"
            )
        return path

    def verified_onnx_files(self) -> dict[str, Path]:
        """Every file of the ONNX export by name, each checked against its checksum."""
        return {file: self.verified_onnx_file(file) for file in self.onnx_files()}


def write_onnx_export(root: Path, export: dict[str, Any]) -> None:
    """Record the ONNX export of the registry in ``root`` (manifest rewritten atomically)."""
    manifest_path = root / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["onnx"] = export
    _write_manifest(manifest_path, manifest)


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_entry(
    root: Path,
    name: str,
    *,
    labels: list[str],
    base_model: dict[str, Any],
    info: dict[str, Any],
) -> None:
    """Record the adapter saved in ``root/name`` in the manifest (rewritten atomically)."""
    folder = root / name
    if not _FOLDER.match(name):
        raise AdapterError(f"invalid adapter name {name!r}: lower-case letters, digits, - or _")
    manifest_path = root / MANIFEST
    manifest: dict[str, Any] = (
        json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest_path.is_file()
        else {"labels": labels, "base_model": base_model, "adapters": {}}
    )
    if manifest["labels"] != labels or manifest["base_model"] != base_model:
        raise AdapterError(
            f"{root} holds adapters for another base model or label set; use another directory"
        )
    files = {p.name: sha256(p) for p in sorted(folder.iterdir()) if p.is_file()}
    manifest["adapters"][name] = {"folder": name, "files": files, "info": info}
    # the ONNX export no longer matches the adapters; `entivec export ner` redoes it
    manifest.pop("onnx", None)
    _write_manifest(manifest_path, manifest)
