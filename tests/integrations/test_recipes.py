"""Every recipe of docs/integrations.md runs as written, after the page's setup block,
and prints the sentence it should find."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.models
PAGE = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
PORT = "The harbour of Rotterdam handles more cargo than any other in Europe."
UNIVERSITY = "Die Universität Heidelberg ist die älteste Hochschule Deutschlands."


def _blocks() -> tuple[str, dict[str, str]]:
    """The setup block (the first Python block) and each section's block by heading."""
    text = PAGE.read_text(encoding="utf-8")
    setup = re.findall(r"```python\n(.*?)```", text, flags=re.S)[0]
    sections = {}
    for heading, body in re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M):
        blocks = re.findall(r"```python\n(.*?)```", body, flags=re.S)
        if blocks:
            sections[heading.strip()] = blocks[0]
    return setup, sections


def test_the_page_has_a_recipe_per_framework() -> None:
    assert set(_blocks()[1]) == {"LangChain", "LlamaIndex", "Haystack"}


@pytest.mark.parametrize(
    ("framework", "expected"),
    [
        ("LangChain", [PORT, f"de {UNIVERSITY}"]),
        ("LlamaIndex", [PORT, f"de {UNIVERSITY}"]),
        ("Haystack", [PORT]),
    ],
)
def test_a_recipe_runs_as_written(
    framework: str, expected: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, sections = _blocks()
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    namespace: dict[str, object] = {}
    with contextlib.redirect_stdout(printed):
        exec(compile(setup, f"{PAGE}:setup", "exec"), namespace)
        exec(compile(sections[framework], f"{PAGE}:{framework}", "exec"), namespace)
    assert printed.getvalue().splitlines() == expected
