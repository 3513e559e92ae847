"""The walls between the wings, read from the imports (every ``import``, at any depth).

The product (``entivec``, ``plugins``, ``loaders``) runs on onnxruntime and tokenizers:
it never imports the build wing (``encoders``) or the lab (``evaluation``), and torch only
in the two modules that need it, each behind its guard. Loaders know no model and no store.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_layout import FOLDERS as PACKAGE_OF_FOLDER
from tests.test_layout import ROOT

PRODUCT = ("entivec", "plugins", "loaders")
WINGS = ("entivec.encoders", "entivec.evaluation")
TORCH_STACK = ("torch", "transformers", "peft", "optimum", "accelerate", "sentence_transformers")
# the decoder LM that writes exemplars, and the PEFT engine of `extract --engine torch`
TORCH_AT_RUN_TIME = {"entivec.query.language_model", "entivec.ner.peft_engine"}


def module_name(path: Path) -> str:
    folder, *rest = path.relative_to(ROOT).with_suffix("").parts
    parts = [PACKAGE_OF_FOLDER[folder], *rest]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, package: list[str] | None = None) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports, with its line, relative imports resolved against
    ``package`` (by default the package the file belongs to)."""
    if package is None:
        package = module_name(path).split(".")
        if path.name != "__init__.py":
            package.pop()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def product_files() -> list[Path]:
    return sorted(p for folder in PRODUCT for p in (ROOT / folder).rglob("*.py"))


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_walk_finds_every_product_module() -> None:
    names = {module_name(p) for p in product_files()}
    assert {"entivec.api", "entivec.store.edge", "entivec.plugins.e5", "entivec.loaders"} <= names
    assert not [n for n in names if within(n, WINGS)]


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_product_imports_neither_wing(path: Path) -> None:
    wrong = [f"line {line}: {m}" for line, m in imports_of(path) if within(m, WINGS)]
    assert not wrong, f"{path.relative_to(ROOT)} imports the build wing or the lab: {wrong}"


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_torch_only_where_the_product_needs_it(path: Path) -> None:
    if module_name(path) in TORCH_AT_RUN_TIME:
        return
    wrong = [f"line {line}: {m}" for line, m in imports_of(path) if within(m, TORCH_STACK)]
    assert not wrong, f"{path.relative_to(ROOT)} imports the torch stack: {wrong}"


def test_the_torch_modules_guard_their_import() -> None:
    for name in TORCH_AT_RUN_TIME:
        path = ROOT / Path(*name.split(".")).with_suffix(".py")
        assert "require_extra(" in path.read_text(encoding="utf-8"), name


@pytest.mark.parametrize(
    "path", sorted((ROOT / "loaders").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_loaders_know_no_plugin_and_no_store(path: Path) -> None:
    banned = ("entivec.plugins", "entivec.store", "entivec.query", "entivec.ner", "onnxruntime")
    wrong = [f"line {line}: {m}" for line, m in imports_of(path) if within(m, banned)]
    assert not wrong, f"{path.relative_to(ROOT)} imports a model or a store: {wrong}"


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The walk reads imports inside functions too, where the lazy ones hide."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f() -> None:\n    from ..encoders import prepare\n    import torch\n")
    found = [m for _, m in imports_of(probe, ["entivec", "query"])]
    assert "entivec.encoders.prepare" in found and "torch" in found
