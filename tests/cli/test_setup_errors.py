"""What the machine lacks is one line, never a traceback: an artefact that is not built
names the command that builds it, a missing extra its pip command, a bad setting its
expected form."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from entivec.cli import cli


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ENTIVEC_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["search", "Berlin"], "`entivec models prepare`"),
        (["route", "Berlin ist"], "`entivec train routing wikiann"),
        (["extract", "Berlin ist"], "`entivec train lora`"),
        (["search", "party", "--vector", "entity"], "`entivec train entity conll"),
        (["search", "party", "--vector", "e5_xling"], "`entivec train e5 ../shared/data/tatoeba`"),
    ],
)
def test_a_missing_artefact_names_the_command_that_builds_it(
    empty_cache: Path, args: list[str], names: str
) -> None:
    result = CliRunner().invoke(cli, [*args, "--store", str(empty_cache / "s")])
    assert result.exit_code == 1, result.output
    assert names in result.output
    assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output


def test_missing_adapters_name_the_training_command(empty_cache: Path) -> None:
    from entivec.api import Entivec
    from entivec.errors import AdapterError

    with Entivec(empty_cache / "s") as ev, pytest.raises(AdapterError, match="entivec train lora"):
        ev.ner_model()


def test_the_lab_says_which_model_to_prepare(empty_cache: Path, data_dir: Path) -> None:
    path = str(data_dir / "crossner" / "politics" / "dev.txt")
    result = CliRunner().invoke(cli, ["eval", "layers", "conll", path, "--language", "en"])
    assert result.exit_code == 1
    assert "run `entivec models prepare`" in result.output and "Traceback" not in result.output


def test_a_missing_extra_names_the_pip_command(
    empty_cache: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import entivec.extras

    real = entivec.extras.find_spec
    monkeypatch.setattr(
        entivec.extras, "find_spec", lambda name: None if name == "torch" else real(name)
    )
    path = str(data_dir / "wikiann" / "de" / "train.conllu")
    for args in (["train", "lora", "wikiann", path], ["models", "prepare"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert "needs the export extra (torch is missing): pip install 'entivec[export]'" in (
            result.output
        )


@pytest.mark.parametrize("value", ["abc", "0", "-2", "²", "100000"])
def test_a_bad_thread_count_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    from entivec.errors import InvalidArgumentError
    from entivec.onnx_sessions import available_cpus, default_threads

    monkeypatch.setenv("ENTIVEC_THREADS", value)
    with pytest.raises(InvalidArgumentError, match="ENTIVEC_THREADS must be a whole number"):
        default_threads()
    # refused before any verb starts: 100,000 threads once stalled the machine for minutes
    result = CliRunner().invoke(cli, ["search", "hello", "--store", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "ENTIVEC_THREADS must be" in result.output
    assert not (tmp_path / "s").exists()
    monkeypatch.setenv("ENTIVEC_THREADS", str(available_cpus()))
    assert default_threads() == available_cpus()
