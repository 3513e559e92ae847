"""The e5 ONNX plugin against the PyTorch model it was exported from, on real sentences."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from entivec.errors import UnknownPluginError
from entivec.loaders import load
from entivec.models import model_dir
from tests.conftest import WIKIANN_LANGUAGES


@pytest.fixture(scope="module")
def sentences(data_dir: Path) -> list[str]:
    texts = []
    for language in WIKIANN_LANGUAGES:
        stream = load("wikiann", [data_dir / "wikiann" / language / "val.conllu"], limit=40)
        texts += [s.text for s in stream]
    return texts


def test_onnx_matches_torch_in_all_six_languages(e5_encoder, sentences: list[str]) -> None:  # type: ignore[no-untyped-def]
    from entivec.build.e5.torch_e5 import TorchE5

    torch_model = TorchE5(model_dir("multilingual-e5-small"))
    for embed in ("embed_passages", "embed_queries"):
        ours = getattr(e5_encoder, embed)(sentences)
        reference = getattr(torch_model, embed)(sentences)
        cosines = (ours * reference).sum(1)
        assert cosines.min() >= 0.9999, sentences[int(cosines.argmin())]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_prefixes_are_applied_by_the_plugin(e5_encoder) -> None:  # type: ignore[no-untyped-def]
    text = "Angela Merkel besuchte Paris."
    query = e5_encoder.embed_queries([text])[0]
    passage = e5_encoder.embed_passages([text])[0]
    assert np.allclose(query, e5_encoder.embed(["query: " + text])[0], atol=1e-6)
    assert np.allclose(passage, e5_encoder.embed(["passage: " + text])[0], atol=1e-6)
    assert float(query @ passage) < 0.999


@pytest.mark.parametrize("variant", ["fp32", "int8"])
@pytest.mark.models
def test_a_vector_does_not_depend_on_its_batch_mates(variant: str, sentences: list[str]) -> None:
    from entivec.plugins.e5 import load as load_e5

    encoder = load_e5(variant)
    target = sentences[5]
    alone = encoder.embed_passages([target])[0]
    with_long = encoder.embed_passages([target, " ".join(sentences[:30])])[0]
    with_many = encoder.embed_passages(sentences[:64])[5]
    # int8 quantises activations per row and block, so batch-mates move a vector only
    # by kernel rounding (naive per-tensor int8 moved it to cosine 0.996)
    tolerance = 1e-5 if variant == "fp32" else 1e-4
    assert float(alone @ with_long) > 1 - tolerance
    assert float(alone @ with_many) > 1 - tolerance


def test_int8_stays_close_to_fp32(e5_encoder, sentences: list[str]) -> None:  # type: ignore[no-untyped-def]
    from entivec.plugins.e5 import load as load_e5

    int8 = load_e5("int8").embed_passages(sentences)
    fp32 = e5_encoder.embed_passages(sentences)
    assert (int8 * fp32).sum(1).min() > 0.995


def test_empty_input_and_unknown_variant(e5_encoder) -> None:  # type: ignore[no-untyped-def]
    from entivec.plugins.e5 import load as load_e5

    assert e5_encoder.embed_passages([]).shape == (0, 384)
    with pytest.raises(UnknownPluginError, match="fp32, int8"):
        load_e5("int4")
