"""Everything ``entivec models prepare`` builds: catalogue models, then plugin artefacts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from entivec.errors import ModelPreparationError
from entivec.models import CATALOGUE, artefact_dir, model_dir, read_manifest

# Bump when the export recipe changes, so cached artefacts are rebuilt.
E5_EXPORT_VERSION = 1
ONNX_MIN_COSINE = 0.9999


def export_checked_e5(source: Path, out: Path, *, int8: bool) -> dict[str, Any]:
    """Export the e5-architecture HF folder ``source`` to ``out/model.onnx`` (and the int8
    variant) and check it against PyTorch on sentences in several scripts.

    Raises:
        ModelPreparationError: The ONNX vectors' cosine to PyTorch's is below 0.9999.
    """
    from entivec.build.e5.export import export_e5_onnx
    from entivec.build.e5.quantize import quantize_e5
    from entivec.build.e5.torch_e5 import TorchE5
    from entivec.build.prepare.models import CHECK_SENTENCES
    from entivec.plugins.onnx_sentence import OnnxSentenceEncoder

    facts = export_e5_onnx(source, out)
    onnx_vectors = OnnxSentenceEncoder(out / "model.onnx", out / "tokenizer.json").embed(
        list(CHECK_SENTENCES)
    )
    torch_vectors = TorchE5(source).model.encode(list(CHECK_SENTENCES))
    cosine = float(np.min((onnx_vectors * torch_vectors).sum(-1)))
    if cosine < ONNX_MIN_COSINE:
        raise ModelPreparationError(
            f"the ONNX export of {source} disagrees with PyTorch: cosine {cosine:.6f} < "
            f"{ONNX_MIN_COSINE}"
        )
    facts["min_cosine_onnx_vs_torch"] = round(cosine, 7)
    if int8:
        facts["int8"] = quantize_e5(
            out / "model.onnx", out / "model_int8.onnx", out / "tokenizer.json"
        )
    return facts


def _build_e5_artefact(out: Path) -> dict[str, Any]:
    return export_checked_e5(model_dir("multilingual-e5-small"), out, int8=True)


def _source_digest(name: str) -> str:
    files = read_manifest(model_dir(name))["files"]
    return str(files.get("model.safetensors", ""))


def prepare_e5_artefact(*, force: bool = False) -> dict[str, Any]:
    """Export (once) the ``e5`` plugin's ONNX artefact from the prepared e5 model."""
    from entivec.build.prepare.models import build_once

    final = artefact_dir("e5")
    base = {
        "plugin": "e5",
        "export_version": E5_EXPORT_VERSION,
        "source_model": "multilingual-e5-small",
        "source_sha256": _source_digest("multilingual-e5-small"),
    }
    return build_once(final, _build_e5_artefact, base, what="the e5 plugin", force=force)


def prepare_everything(
    *, force: bool = False, only: tuple[str, ...] | None = None
) -> Iterator[str]:
    """Prepare every catalogue model, then the plugin artefacts; yield one line per item."""
    from entivec.build.prepare.models import prepare_model

    names = list(only) if only else list(CATALOGUE)
    for name in names:
        if name not in CATALOGUE:
            raise ModelPreparationError(
                f"no model named {name!r}; expected one of: {', '.join(CATALOGUE)}"
            )
        manifest = prepare_model(name, force=force)
        yield f"{name}: ready at {model_dir(name)} (checks: {manifest['checks']})"
    if "multilingual-e5-small" in names:
        manifest = prepare_e5_artefact(force=force)
        checks = manifest["checks"]
        yield (
            f"e5 plugin: ready at {artefact_dir('e5')} (ONNX vs torch cosine "
            f"{checks['min_cosine_onnx_vs_torch']}, int8: {checks['int8']})"
        )
