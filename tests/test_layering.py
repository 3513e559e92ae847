"""The walls between the wings, read from the imports (every ``import``, at any depth).

The product (everything under ``entivec`` but ``entivec.build`` and ``entivec.lab``) runs on
onnxruntime and tokenizers: it never imports the build wing or the lab, and torch only in
the two modules that need it, each behind its guard. The build wing never imports the lab
(dependencies run one way: lab -> build -> product). Loaders know no model and no store.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.test_layout import PACKAGE, ROOT, module_name, source_files

BUILD = ("entivec.build",)
LAB = ("entivec.lab",)
TORCH_STACK = ("torch", "transformers", "peft", "optimum", "accelerate", "sentence_transformers")
# the decoder LM that writes exemplars, and the PEFT engine of `extract --engine torch`
TORCH_AT_RUN_TIME = {"entivec.query.language_model", "entivec.ner.peft_engine"}
INTEGRATIONS = ("entivec.integrations",)
FRAMEWORKS = ("langchain_core", "langchain_qdrant", "llama_index", "haystack")


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


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def files_of(predicate: Callable[[str], bool]) -> list[Path]:
    return [p for p in source_files() if predicate(module_name(p))]


PRODUCT_FILES = files_of(lambda name: not within(name, BUILD + LAB))
BUILD_FILES = files_of(lambda name: within(name, BUILD))


def test_the_walk_finds_every_wing() -> None:
    names = {module_name(p) for p in source_files()}
    assert {"entivec.api", "entivec.store.edge", "entivec.plugins.e5", "entivec.loaders"} <= names
    assert {"entivec.build.commands", "entivec.lab.commands"} <= names
    assert len(PRODUCT_FILES) + len(BUILD_FILES) < len(source_files())


@pytest.mark.parametrize("path", PRODUCT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_product_imports_neither_wing(path: Path) -> None:
    wrong = [f"line {line}: {m}" for line, m in imports_of(path) if within(m, BUILD + LAB)]
    assert not wrong, f"{path.relative_to(ROOT)} imports the build wing or the lab: {wrong}"


@pytest.mark.parametrize("path", BUILD_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_build_wing_never_imports_the_lab(path: Path) -> None:
    wrong = [f"line {line}: {m}" for line, m in imports_of(path) if within(m, LAB)]
    assert not wrong, f"{path.relative_to(ROOT)} imports the lab: {wrong}"


@pytest.mark.parametrize("path", PRODUCT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_torch_only_where_the_product_needs_it(path: Path) -> None:
    if module_name(path) in TORCH_AT_RUN_TIME:
        return
    wrong = [f"line {line}: {m}" for line, m in imports_of(path) if within(m, TORCH_STACK)]
    assert not wrong, f"{path.relative_to(ROOT)} imports the torch stack: {wrong}"


def test_the_torch_modules_guard_their_import() -> None:
    for name in TORCH_AT_RUN_TIME:
        path = PACKAGE.parent / Path(*name.split(".")).with_suffix(".py")
        assert "require_extra(" in path.read_text(encoding="utf-8"), name


@pytest.mark.parametrize("path", PRODUCT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_frameworks_stay_in_the_integrations(path: Path) -> None:
    """entivec imports without LangChain, LlamaIndex or Haystack: only their own modules
    import them, and no other module imports those."""
    if within(module_name(path), INTEGRATIONS):
        assert "require_extra(" in path.read_text(encoding="utf-8") or not any(
            within(m, FRAMEWORKS) for _, m in imports_of(path)
        ), f"{path.relative_to(ROOT)} imports a framework without naming its extra"
        return
    wrong = [
        f"line {line}: {m}"
        for line, m in imports_of(path)
        if within(m, FRAMEWORKS) or within(m, INTEGRATIONS)
    ]
    assert not wrong, f"{path.relative_to(ROOT)} imports a framework: {wrong}"


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "loaders").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_loaders_know_no_plugin_and_no_store(path: Path) -> None:
    banned = ("entivec.plugins", "entivec.store", "entivec.query", "entivec.ner", "onnxruntime")
    wrong = [f"line {line}: {m}" for line, m in imports_of(path) if within(m, banned)]
    assert not wrong, f"{path.relative_to(ROOT)} imports a model or a store: {wrong}"


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The walk reads imports inside functions too, where the lazy ones hide."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f() -> None:\n    from ..build import prepare\n    import torch\n")
    found = [m for _, m in imports_of(probe, ["entivec", "query"])]
    assert "entivec.build.prepare" in found and "torch" in found
