"""The repository layout (DESIGN.md, "The tree"): one ``src/entivec`` tree whose folders are
the import names, modules a reader can hold in mind, a README for users, and tests that
mirror the package."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "entivec"
MAX_MODULE_LINES = 500
MAX_README_LINES = 250
# test folders that are not a package of their own: whole-pipeline scenarios
TEST_FOLDERS_ACROSS_PACKAGES = {"integration"}


def module_name(path: Path) -> str:
    """The import name of a file under ``src/``: its path, dotted."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_setuptools_finds_the_packages_with_no_mapping() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "package-dir" not in config
    assert config["packages"]["find"]["where"] == ["src"]
    # every folder holding modules is a package, or setuptools would leave it out
    for folder in {p.parent for p in source_files()}:
        assert (folder / "__init__.py").is_file(), folder.relative_to(ROOT)


def test_every_module_imports_under_its_path() -> None:
    import importlib

    for path in source_files():
        name = module_name(path)
        if name.startswith(("entivec.build", "entivec.lab")) or name.endswith("__main__"):
            continue  # the wings need their extras; the layering test reads them instead
        module = importlib.import_module(name)
        assert Path(module.__file__ or "").resolve() == path.resolve(), name


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in source_files()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_the_readme_is_a_users_page() -> None:
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines"


def test_tests_mirror_the_package() -> None:
    packages = {p.parent.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("__init__.py")}
    for folder in (p for p in (ROOT / "tests").iterdir() if p.is_dir()):
        if folder.name in TEST_FOLDERS_ACROSS_PACKAGES or folder.name.startswith((".", "_")):
            continue
        assert folder.name in packages, f"tests/{folder.name} mirrors no package of entivec"


def test_pytest_collects_every_test_folder() -> None:
    import fnmatch

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    skipped = config["ini_options"]["norecursedirs"]
    for folder in (p for p in (ROOT / "tests").iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")):
            continue
        assert not any(fnmatch.fnmatch(folder.name, pattern) for pattern in skipped), (
            f"tests/{folder.name} is never collected (norecursedirs)"
        )


def test_ruff_and_mypy_are_clean() -> None:
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], capture_output=True, text=True, cwd=ROOT
    )
    assert ruff.returncode == 0, ruff.stdout
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert mypy.returncode == 0, mypy.stdout
    assert f"in {len(source_files())} source files" in mypy.stdout  # every one of them


def test_the_docker_image_copies_the_source_tree() -> None:
    copied = {
        line.split()[1]
        for line in (ROOT / "docker" / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
    }
    assert "src" in copied
