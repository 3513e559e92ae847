"""Ship a fine-tuned e5 as the ``e5_xling`` plugin's artefact.

The artefact folder holds ``model.onnx`` (exported and checked like the base e5 plugin:
pooling and normalisation inside the graph, cosine to PyTorch at least 0.9999),
``tokenizer.json`` and a manifest with the training recipe, the checksum of the
fine-tuned weights and the dev metrics. It is rebuilt only when the weights change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from entivec.build.prepare.artefacts import export_checked_e5
from entivec.build.prepare.models import build_once
from entivec.models import artefact_dir, sha256

NAME = "e5_xling"


def prepare_e5_xling_artefact(
    model_folder: Path, training: dict[str, Any], *, force: bool = False
) -> dict[str, Any]:
    """Export the fine-tuned HF folder ``model_folder`` as the ``e5_xling`` artefact.

    Args:
        model_folder: ``model.safetensors``, config and tokenizer of the fine-tuned e5.
        training: The training run's manifest (recipe and dev metrics), recorded.
        force: Rebuild even when the artefact holds the same weights.
    """
    manifest = {
        "plugin": NAME,
        "source_sha256": sha256(model_folder / "model.safetensors"),
        "training": training,
    }
    return build_once(
        artefact_dir(NAME),
        lambda out: export_checked_e5(model_folder, out, int8=False),
        manifest,
        what="the e5_xling plugin",
        force=force,
    )
