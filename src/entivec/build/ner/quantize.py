"""The int8 variant of the NER graph (``ner_int8.onnx``), for hosts with int8 dot-product
instructions (AVX-512 VNNI, AVX-VNNI, AMX).

onnxruntime's ``quantize_dynamic`` with int8 weights, one scale per output channel, and
activations quantised per tensor at run time. Left in fp32: the LoRA and classifier
``MatMul`` nodes (their weights are the adapter inputs, swapped per run), and the
feed-forward output projection of every layer. Measured with ``entivec eval written
wikiann ../shared/data/wikiann/*/val.conllu --per-document 1 --limit 1000 --engine
onnx-int8`` (6,000 sentences, pre-tokenised / written mention F1 against fp32's .806 /
.803) and tagging speed against fp32 in one process (AMD EPYC with AVX-512 VNNI, 2
cores):

- every base ``MatMul`` per tensor: .793 / .793, 2.1x;
- per channel: .802 / .798, 1.8-2.1x;
- per channel, the feed-forward output projections in fp32 (shipped): .807 / .802, 1.4x;
- the same for the last three or first three layers only: .800 / .798 and .799 / .797.

The feed-forward output projection reads the 1,536 GELU activations, whose few large
channels one scale per tensor cannot hold (as e5's ``<s>`` channels, see
:mod:`entivec.build.e5.quantize`). Without VNNI or AMX the int8 kernels are no faster
than fp32 (bench/README.md), and onnxruntime's u8s8 kernels there can saturate
(measured only on a VNNI host), so the variant is chosen by the user (``--engine
onnx-int8``), never by default.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from entivec.errors import ModelPreparationError
from entivec.ner.adapters import ONNX_GRAPH, ONNX_INT8_GRAPH

log = logging.getLogger(__name__)

# the feed-forward output projection of layer N (not the attention's output projection)
FP32_NODES = re.compile(r"/layer\.\d+/output/dense/")
# tags the int8 graph must share with fp32 on the export's check sentences
MIN_TAG_AGREEMENT = 0.95


def quantize_ner(folder: Path, adapter_inputs: set[str]) -> Path:
    """Write ``folder/ner_int8.onnx`` from ``folder/ner.onnx``, leaving in fp32 every
    node that reads an adapter input and the feed-forward output projections."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(folder / ONNX_GRAPH))
    keep = [
        node.name
        for node in model.graph.node
        if node.op_type == "MatMul"
        and (FP32_NODES.search(node.name) or any(i in adapter_inputs for i in node.input))
    ]
    if not any(FP32_NODES.search(name) for name in keep):
        raise ModelPreparationError(
            f"{folder / ONNX_GRAPH} has no feed-forward output projection named like "
            f"{FP32_NODES.pattern!r}; the int8 recipe does not fit this graph"
        )
    del model
    log.info("quantizing %s to int8 (%d MatMul nodes kept in fp32)", folder / ONNX_GRAPH, len(keep))
    out = folder / ONNX_INT8_GRAPH
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        written = Path(tmp) / ONNX_INT8_GRAPH
        quantize_dynamic(
            folder / ONNX_GRAPH,
            written,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep,
            extra_options={"MatMulConstBOnly": True},
        )
        written.replace(out)
    return out


def tag_agreement(fp32: Any, int8: Any, names: list[str], sentences: list[list[str]]) -> float:
    """The share of words the two engines tag alike, over every adapter in ``names``."""
    same = total = 0
    for name in names:
        for a, b in zip(fp32.predict(name, sentences), int8.predict(name, sentences), strict=True):
            same += sum(x == y for x, y in zip(a, b, strict=True))
            total += len(a)
    return same / max(1, total)
