"""The repository layout (README, "Plugins and layout"): top-level folders mapped into
one package."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "entivec": "entivec",
    "plugins": "entivec.plugins",
    "encoders": "entivec.encoders",
    "loaders": "entivec.loaders",
    "evaluation": "entivec.evaluation",
}


def test_every_package_folder_is_mapped_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = set(config["packages"])
    package_dir = config["package-dir"]
    found = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert found == set(FOLDERS)
    for folder, package in FOLDERS.items():
        assert package in packages
        assert package_dir[package] == folder
        assert (ROOT / folder / "py.typed").is_file()
    # every sub-package is listed, or setuptools would silently leave it out
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).glob("*/**/__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            assert ".".join((package, *parts)) in packages, init


def test_the_mapped_modules_import_from_one_root() -> None:
    import entivec.encoders
    import entivec.evaluation
    import entivec.loaders
    import entivec.plugins

    for module in (entivec.plugins, entivec.encoders, entivec.loaders, entivec.evaluation):
        assert Path(module.__file__ or "").parent.name in FOLDERS


def test_bare_folder_imports_are_banned_by_ruff(tmp_path: Path) -> None:
    offender = ROOT / "entivec" / "_ruff_probe_tmp.py"
    offender.write_text("from __future__ import annotations\n\nimport plugins  # noqa: F401\n")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ruff", "check", "--select", "TID251", str(offender)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    finally:
        offender.unlink()
    assert result.returncode == 1
    assert "TID251" in result.stdout


def test_ruff_and_mypy_are_clean(tmp_path: Path) -> None:
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], capture_output=True, text=True, cwd=ROOT
    )
    assert ruff.returncode == 0, ruff.stdout
    # mypy cannot follow setuptools' editable-install mapping, so check a mirror tree in
    # which the three folders sit inside entivec/ as they do once installed.
    mirror = tmp_path / "entivec"
    mirror.mkdir()
    for item in (ROOT / "entivec").iterdir():
        (mirror / item.name).symlink_to(item)
    for folder in ("plugins", "encoders", "loaders", "evaluation"):
        (mirror / folder).symlink_to(ROOT / folder)
    mypy = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "-p",
            "entivec",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert mypy.returncode == 0, mypy.stdout
    sources = sum(len(list((ROOT / folder).rglob("*.py"))) for folder in FOLDERS)
    assert f"in {sources} source files" in mypy.stdout  # all of them, not just entivec/


def test_the_docker_image_copies_every_package_folder() -> None:
    copied = {
        line.split()[1]
        for line in (ROOT / "docker" / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
    }
    assert set(FOLDERS) <= copied
