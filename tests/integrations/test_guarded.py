"""Each integration names the extra that installs its framework when it is missing; the
rest of entivec never imports them (tests/test_layering.py)."""

from __future__ import annotations

import importlib
import sys

import pytest

import entivec.extras
from entivec.errors import MissingDependencyError

CASES = {
    "entivec.integrations.langchain": ("langchain_core", "langchain"),
    "entivec.integrations.llama_index": ("llama_index.core", "llama-index"),
    "entivec.integrations.haystack": ("haystack", "haystack"),
}


@pytest.mark.parametrize("module", CASES)
def test_a_missing_framework_names_its_extra(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    framework, extra = CASES[module]
    real = entivec.extras.find_spec
    monkeypatch.setattr(
        entivec.extras, "find_spec", lambda name: None if name == framework else real(name)
    )
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(MissingDependencyError, match=rf"pip install 'entivec\[{extra}\]'"):
        importlib.import_module(module)
