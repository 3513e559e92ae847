"""``--plot FILE``: the lab draws what it measured, from the same run as its table."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from entivec.cli import cli

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.usefixtures("hashed_plugins")
def test_eval_routing_draws_accuracy_by_length(tmp_path: Path, data_dir: Path) -> None:
    store = str(tmp_path / "s")
    runner = CliRunner()
    languages = ("de", "nl", "pl")
    for language in languages:
        path = str(data_dir / "wikiann" / language / "train.conllu")
        args = ["-q", "ingest", "wikiann", path, "--store", store, "--plugin", "hashed"]
        done = runner.invoke(cli, [*args, "--limit", "300"])
        assert done.exit_code == 0, done.output
    val = [str(data_dir / "wikiann" / language / "val.conllu") for language in languages]
    plot = tmp_path / "routing.png"
    result = runner.invoke(
        cli,
        ["eval", "routing", "wikiann", *val, "--store", store, "--vector", "hashed",
         "--limit", "40", "--plot", str(plot)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "hashed" in result.output and "120 sentences" in result.output
    assert plot.read_bytes().startswith(PNG) and plot.stat().st_size > 10_000
