"""Every file a plugin or an adapter loads is listed in its manifest and checked.

No model is run: the checks happen before onnxruntime or PEFT opens a file, so small
stand-in files in a scratch cache show each failure. Each is one line naming the
manifest (or the file) and the command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from entivec.errors import AdapterError, ModelNotPreparedError, ModelPreparationError
from entivec.models import MANIFEST
from entivec.ner.adapters import MANIFEST as ADAPTERS_MANIFEST
from entivec.ner.adapters import AdapterRegistry


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def e5_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch cache whose e5 artefact holds stand-in files and a matching manifest."""
    monkeypatch.setenv("ENTIVEC_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "cache" / "artefacts" / "e5"
    folder.mkdir(parents=True)
    files = {"model.onnx": b"graph", "tokenizer.json": b"{}"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {"plugin": "e5", "files": {n: _digest(d) for n, d in files.items()}}
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def _load_e5() -> None:
    from entivec.plugins import e5

    e5.load()


def _edit_manifest(folder: Path, change: dict[str, object]) -> None:
    path = folder / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(change)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_a_replaced_model_file_fails_its_checksum(e5_folder: Path) -> None:
    (e5_folder / "model.onnx").write_bytes(b"another graph")
    with pytest.raises(ModelPreparationError) as info:
        _load_e5()
    message = str(info.value)
    assert "model.onnx does not match its checksum" in message and "\n" not in message
    assert f"rm -r {e5_folder} && entivec models prepare" in message


def test_a_file_the_manifest_does_not_list_is_refused(e5_folder: Path) -> None:
    _edit_manifest(e5_folder, {"files": {}})
    with pytest.raises(ModelPreparationError, match=r"does not list model\.onnx"):
        _load_e5()


def test_a_manifest_naming_a_path_outside_its_folder_is_refused(e5_folder: Path) -> None:
    hostname = (
        _digest(Path("/etc/hostname").read_bytes()) if Path("/etc/hostname").is_file() else "0" * 64
    )
    _edit_manifest(e5_folder, {"files": {"/etc/hostname": hostname, "../model.onnx": "0" * 64}})
    with pytest.raises(ModelPreparationError, match="not a file name inside its folder"):
        _load_e5()


def test_a_truncated_manifest_is_one_line(e5_folder: Path) -> None:
    text = (e5_folder / MANIFEST).read_text(encoding="utf-8")
    (e5_folder / MANIFEST).write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ModelPreparationError, match=r"entivec-manifest\.json is damaged"):
        _load_e5()


def test_a_missing_artefact_names_the_command_that_builds_it(e5_folder: Path) -> None:
    (e5_folder / "model.onnx").unlink()
    with pytest.raises(ModelNotPreparedError, match="run `entivec models prepare`"):
        _load_e5()


def test_the_cli_reports_a_damaged_artefact_in_one_line(e5_folder: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from entivec.cli import cli

    (e5_folder / "tokenizer.json").write_bytes(b"{ truncated")
    result = CliRunner().invoke(cli, ["search", "Berlin", "--store", str(tmp_path / "s")])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "tokenizer.json does not match its checksum" in result.output


ADAPTER_FILES = {"adapter_config.json": b'{"r": 16}', "adapter_model.safetensors": b"weights"}


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """An adapter registry with adapters de and nl (stand-in files) and their manifest."""
    root = tmp_path / "adapters"
    adapters = {}
    for name in ("de", "nl"):
        (root / name).mkdir(parents=True)
        for file, data in ADAPTER_FILES.items():
            (root / name / file).write_bytes(data + name.encode())
        adapters[name] = {
            "folder": name,
            "files": {f: _digest(d + name.encode()) for f, d in ADAPTER_FILES.items()},
        }
    manifest = {"labels": ["O", "B-PER"], "base_model": {"name": "x"}, "adapters": adapters}
    (root / ADAPTERS_MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return root


def _edit_adapters(root: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    path = root / ADAPTERS_MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_an_adapter_with_every_file_listed_and_intact_loads(registry: Path) -> None:
    assert AdapterRegistry(registry).verified_folder("de") == registry / "de"


def test_another_languages_weights_copied_in_fail_the_checksum(registry: Path) -> None:
    weights = "adapter_model.safetensors"
    (registry / "de" / weights).write_bytes((registry / "nl" / weights).read_bytes())
    with pytest.raises(AdapterError, match=r"adapter 'de': .*does not match its checksum"):
        AdapterRegistry(registry).verified_folder("de")


def test_an_adapter_that_lists_no_files_is_refused(registry: Path) -> None:
    _edit_adapters(registry, lambda m: m["adapters"]["de"].update(files={}))
    with pytest.raises(AdapterError, match="lists no files; expected exactly adapter_config"):
        AdapterRegistry(registry)


def test_an_adapter_file_outside_its_folder_is_refused(registry: Path) -> None:
    def point_outside(manifest: dict[str, Any]) -> None:
        files = manifest["adapters"]["de"]["files"]
        files["/etc/hostname"] = files.pop("adapter_config.json")

    _edit_adapters(registry, point_outside)
    with pytest.raises(AdapterError, match="not a file name inside its folder"):
        AdapterRegistry(registry)


def test_an_adapter_folder_outside_the_registry_is_refused(registry: Path) -> None:
    _edit_adapters(registry, lambda m: m["adapters"]["de"].update(folder="../de"))
    with pytest.raises(AdapterError, match="invalid folder"):
        AdapterRegistry(registry)


def test_a_truncated_adapter_manifest_is_one_line(registry: Path) -> None:
    text = (registry / ADAPTERS_MANIFEST).read_text(encoding="utf-8")
    (registry / ADAPTERS_MANIFEST).write_text(text[:-20], encoding="utf-8")
    with pytest.raises(AdapterError) as info:
        AdapterRegistry(registry)
    assert "is damaged (not JSON" in str(info.value) and "\n" not in str(info.value)


def test_an_onnx_export_without_its_graph_is_refused(registry: Path) -> None:
    _edit_adapters(registry, lambda m: m.update(onnx={"files": {"de.onnx_adapter": "0" * 64}}))
    with pytest.raises(AdapterError, match=r"the ONNX export does not list ner\.onnx"):
        AdapterRegistry(registry)
