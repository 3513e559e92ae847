"""Export a prepared e5 folder to the ``e5`` plugin's ONNX artefact.

optimum exports the BERT encoder (``last_hidden_state``); entivec then appends masked
mean pooling and L2 normalisation as ONNX nodes, so the graph returns the sentence
vector itself, and runs onnxruntime's transformer optimiser (fused attention,
LayerNorm and GELU) offline, so that sessions start fast and run the fused graph.

The artefact folder holds ``model.onnx`` (fp32), ``model_int8.onnx`` (see
:mod:`entivec.build.e5.quantize`), ``tokenizer.json`` and a manifest.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OUTPUT = "sentence_embedding"


def append_mean_pooling(model: Any) -> Any:
    """Replace the graph's ``last_hidden_state`` output by its masked mean, L2-normalised."""
    import onnx
    from onnx import TensorProto, helper

    graph = model.graph
    axes_1 = helper.make_tensor("entivec_axes_1", TensorProto.INT64, [1], [1])
    axes_2 = helper.make_tensor("entivec_axes_2", TensorProto.INT64, [1], [2])
    tiny = helper.make_tensor("entivec_tiny", TensorProto.FLOAT, [], [1e-9])
    graph.initializer.extend([axes_1, axes_2, tiny])
    nodes = [
        helper.make_node("Cast", ["attention_mask"], ["entivec_mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["entivec_mask_f", "entivec_axes_2"], ["entivec_mask3"]),
        helper.make_node("Mul", ["last_hidden_state", "entivec_mask3"], ["entivec_masked"]),
        helper.make_node(
            "ReduceSum", ["entivec_masked", "entivec_axes_1"], ["entivec_sum"], keepdims=0
        ),
        helper.make_node(
            "ReduceSum", ["entivec_mask3", "entivec_axes_1"], ["entivec_count"], keepdims=0
        ),
        helper.make_node("Max", ["entivec_count", "entivec_tiny"], ["entivec_count_safe"]),
        helper.make_node("Div", ["entivec_sum", "entivec_count_safe"], ["entivec_mean"]),
        helper.make_node("LpNormalization", ["entivec_mean"], [OUTPUT], axis=1, p=2),
    ]
    graph.node.extend(nodes)
    hidden = next(o for o in graph.output if o.name == "last_hidden_state")
    size = hidden.type.tensor_type.shape.dim[2].dim_value
    del graph.output[:]
    graph.output.append(
        helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch_size", size])
    )
    onnx.checker.check_model(model)
    return model


def export_e5_onnx(hf_folder: Path, out: Path) -> dict[str, Any]:
    """Write ``out/model.onnx`` and ``out/tokenizer.json`` from a prepared e5 folder.

    Returns:
        Facts for the manifest (opset, sizes).
    """
    import json

    import onnx
    from onnxruntime.transformers.optimizer import optimize_model
    from optimum.exporters.onnx import main_export

    config = json.loads((hf_folder / "config.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        main_export(
            str(hf_folder),
            output=tmp,
            task="feature-extraction",
            opset=18,
            do_validation=False,
            no_post_process=True,
            device="cpu",
        )
        pooled = append_mean_pooling(onnx.load(f"{tmp}/model.onnx"))
        onnx.save(pooled, f"{tmp}/pooled.onnx")
        optimised = optimize_model(
            f"{tmp}/pooled.onnx",
            model_type="bert",
            num_heads=config["num_attention_heads"],
            hidden_size=config["hidden_size"],
        )
        optimised.save_model_to_file(str(out / "model.onnx"))
        fused = optimised.get_fused_operator_statistics()
    shutil.copy(hf_folder / "tokenizer.json", out / "tokenizer.json")
    return {
        "opset": 18,
        "hidden_size": config["hidden_size"],
        "fused_operators": {k: v for k, v in fused.items() if v},
    }
