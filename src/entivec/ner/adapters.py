"""The LoRA adapter registry: a directory, a manifest, one sub-directory per adapter.

::

    adapters/
      entivec-adapters.json   base model, labels, adapter name -> folder + sha256 per file
      de/adapter_config.json, de/adapter_model.safetensors
      ...
      joint/...
      onnx/ner.onnx, onnx/ner_int8.onnx, onnx/de.onnx_adapter, ...   after
                                                 `entivec export ner` (optional)

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

from entivec.errors import AdapterError, ModelNotPreparedError, ModelPreparationError
from entivec.models import checked_file_table, sha256, verify_files

MANIFEST = "entivec-adapters.json"
JOINT = "joint"
ONNX_FOLDER = "onnx"
ONNX_GRAPH = "ner.onnx"
# the same graph with int8 weights (entivec.build.ner.quantize), for --engine onnx-int8
ONNX_INT8_GRAPH = "ner_int8.onnx"
# the export's record that the int8 graph tags its check sentences as fp32 does
INT8_CHECK = "int8_tag_agreement"
ONNX_LAYOUT = "lora-inputs.json"
ONNX_ADAPTER_SUFFIX = ".onnx_adapter"
# What PEFT reads from an adapter folder; the manifest lists exactly these (PEFT would
# fall back to a pickled adapter_model.bin if the safetensors file were not there)
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
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

    The manifest is checked when the registry opens: its shape, every folder and file
    name (plain names inside the registry), every checksum's form, and that each adapter
    lists exactly the files PEFT loads (:data:`ADAPTER_FILES`) and the ONNX export its
    graph and layout. Files are hashed when they are loaded.

    Args:
        root: The registry directory.

    Raises:
        AdapterError: No manifest, or one that is damaged or names anything outside
            ``root``; the message names the manifest and the entry.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.manifest_path = self.root / MANIFEST
        if not self.manifest_path.is_file():
            raise AdapterError(
                f"{self.root} is not an adapter registry (no {MANIFEST}); train one with "
                "`entivec train lora`"
            )
        self.manifest = self._read()
        labels, base_model = self.manifest.get("labels"), self.manifest.get("base_model")
        if (
            not isinstance(labels, list)
            or not labels
            or not all(isinstance(x, str) for x in labels)
        ):
            raise self._damaged('expected "labels": a list of tag names')
        if not isinstance(base_model, dict):
            raise self._damaged('expected "base_model": an object')
        self.labels: list[str] = labels
        self.base_model: dict[str, Any] = base_model
        adapters = self.manifest.get("adapters", {})
        if not isinstance(adapters, dict):
            raise self._damaged('expected "adapters": an object of name -> entry')
        self._entries: dict[str, AdapterEntry] = {}
        for name, entry in adapters.items():
            self._entries[name] = self._entry(name, entry)
        export = self.manifest.get("onnx", {})
        if not isinstance(export, dict):
            raise self._damaged('expected "onnx": an object')
        if export:
            files = self._files(export.get("files"), "the ONNX export")
            for required in (ONNX_GRAPH, ONNX_LAYOUT):
                if required not in files:
                    raise self._damaged(f"the ONNX export does not list {required}")
            for file in files:
                if not _ONNX_FILE.match(file):
                    raise self._damaged(f"invalid ONNX file name {file[:80]!r}")

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise self._damaged(f"not JSON: {exc.msg} at line {exc.lineno}") from None
        except (UnicodeDecodeError, RecursionError):
            raise self._damaged("not UTF-8 JSON") from None
        if not isinstance(data, dict):
            raise self._damaged("not a JSON object")
        return data

    def _damaged(self, what: str) -> AdapterError:
        return AdapterError(
            f"{self.manifest_path} is damaged ({what}); retrain with `entivec train lora` "
            "into an empty directory"
        )

    def _files(self, table: object, whose: str) -> dict[str, str]:
        try:
            return checked_file_table(table, whose)
        except ModelPreparationError as exc:
            raise self._damaged(str(exc)) from None

    def _entry(self, name: str, entry: object) -> AdapterEntry:
        if not isinstance(entry, dict):
            raise self._damaged(f"adapter {name[:40]!r} is not an object")
        folder = entry.get("folder")
        if not isinstance(folder, str) or not _FOLDER.match(folder):
            raise self._damaged(f"adapter {name[:40]!r} names an invalid folder {folder!r:.60}")
        files = self._files(entry.get("files"), f"adapter {name!r}")
        if set(files) != set(ADAPTER_FILES):
            raise self._damaged(
                f"adapter {name!r} lists {', '.join(sorted(files)) or 'no files'}; expected "
                f"exactly {', '.join(ADAPTER_FILES)}"
            )
        info = entry.get("info", {})
        return AdapterEntry(name, self.root / folder, files, info if isinstance(info, dict) else {})

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
        """The folder of adapter ``name`` after checking the sha256 of every file PEFT reads.

        Raises:
            AdapterError: Unregistered, a file missing, or a checksum mismatch.
        """
        entry = self.entry(name)
        try:
            verify_files(
                entry.folder,
                entry.files,
                ADAPTER_FILES,
                where=self.manifest_path,
                rebuild="entivec train lora",
            )
        except (ModelPreparationError, ModelNotPreparedError) as exc:
            raise AdapterError(f"adapter {name!r}: {exc}") from None
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
        folder = self.root / ONNX_FOLDER
        try:
            verify_files(
                folder,
                self.onnx_export["files"],
                [file],
                where=self.manifest_path,
                rebuild=f"entivec export ner --adapters {self.root} --force",
            )
        except (ModelPreparationError, ModelNotPreparedError) as exc:
            raise AdapterError(f"the ONNX export: {exc}") from None
        return folder / file

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
    files = {file: sha256(folder / file) for file in ADAPTER_FILES}
    manifest["adapters"][name] = {"folder": name, "files": files, "info": info}
    # the ONNX export no longer matches the adapters; `entivec export ner` redoes it
    manifest.pop("onnx", None)
    _write_manifest(manifest_path, manifest)
