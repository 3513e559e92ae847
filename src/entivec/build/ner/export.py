"""Export an adapter registry to onnxruntime: one base graph, one LoRA adapter file each.

The NER model is exported once, with its LoRA weights and classifier head turned into
graph *inputs*; every registered adapter becomes an ``.onnx_adapter`` file (onnxruntime's
LoRA adapter format) holding values for exactly those inputs. At run time an adapter is
activated per run (``RunOptions.add_active_adapter``), so switching languages swaps a
pointer instead of weights, and the registry stores the 470 MB of base weights once
instead of once per language (merged graphs would take 7 × 470 MB for six languages and
the joint adapter).

The exporter renames and transposes weights (a ``Linear`` becomes a ``MatMul`` against
``onnx::MatMul_123``), so the graph's LoRA initializers are found by *value*: the graph is
exported with a trained adapter active, each of that adapter's tensors must match exactly
one initializer (as stored or transposed), and the layout is recorded so every adapter's
tensors are written the way the graph reads them. Beside it goes the same graph with
int8 weights (:mod:`entivec.build.ner.quantize`), which ``--engine onnx-int8`` runs.

::

    adapters/onnx/ner.onnx, adapters/onnx/ner_int8.onnx, adapters/onnx/lora-inputs.json,
    adapters/onnx/de.onnx_adapter, ...
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from entivec.errors import AdapterError, ModelPreparationError
from entivec.models import sha256
from entivec.ner.adapters import (
    INT8_CHECK,
    ONNX_ADAPTER_SUFFIX,
    ONNX_FOLDER,
    ONNX_GRAPH,
    ONNX_INT8_GRAPH,
    ONNX_LAYOUT,
    AdapterRegistry,
    write_onnx_export,
)

log = logging.getLogger(__name__)

ADAPTER_WEIGHTS = "adapter_model.safetensors"
# logits of the ONNX graph and of PEFT may differ by float rounding, not by a tag
MAX_LOGIT_DIFFERENCE = 1e-3
CHECK_SENTENCES: tuple[tuple[str, ...], ...] = (
    ("Angela", "Merkel", "besuchte", "Paris", "und", "traf", "Emmanuel", "Macron", "."),
    ("The", "United", "Nations", "met", "in", "New", "York", "."),
    ("Real", "Madrid", "ganó", "en", "Barcelona"),
    ("Владимир", "Путин", "прибыл", "в", "Москву"),
    ("Lech", "Wałęsa", "urodził", "się", "w", "Popowie"),
    (
        "Ajax",
        "Amsterdam",
    ),
)


def _adapter_tensors(registry: AdapterRegistry, name: str) -> dict[str, npt.NDArray[Any]]:
    from safetensors.numpy import load_file

    return load_file(str(registry.verified_folder(name) / ADAPTER_WEIGHTS))


def export_ner_graph(
    registry: AdapterRegistry, name: str, path: Path, *, merged: bool = False
) -> None:
    """The PEFT model with adapter ``name`` active, as an ONNX graph at ``path``.

    Exported with the TorchScript exporter (optimum's choice too; the dynamo exporter
    would need onnxscript). With ``merged``, the adapter is folded into the base weights
    first: one self-contained graph per adapter, the alternative this module avoids
    (``bench/route.py`` measures both)."""
    import torch

    from entivec.ner.peft_engine import NerModel

    model = NerModel(registry)
    model.set_adapter(name)
    peft_model = model._model.merge_and_unload() if merged else model._model

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = peft_model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits

    batch = model.tokenizer([CHECK_SENTENCES[0]])
    example = (torch.from_numpy(batch.input_ids), torch.from_numpy(batch.attention_mask))
    dynamic = {0: "batch", 1: "tokens"}
    with torch.inference_mode():
        torch.onnx.export(
            Logits().eval(),
            example,
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "logits": dynamic},
            opset_version=18,
            dynamo=False,
        )


def _lift_adapter_inputs(
    graph_path: Path, template: dict[str, npt.NDArray[Any]]
) -> tuple[Any, dict[str, bool]]:
    """Turn the initializers holding ``template``'s tensors into graph inputs named after
    the tensors; return the model and, per tensor, whether the graph reads it transposed."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(graph_path))
    graph = model.graph
    wanted: dict[tuple[tuple[int, ...], bytes], list[tuple[str, bool]]] = {}
    for key, value in template.items():
        value = np.ascontiguousarray(value, dtype=np.float32)
        wanted.setdefault((value.shape, value.tobytes()), []).append((key, False))
        if value.ndim == 2:
            flipped = np.ascontiguousarray(value.T)
            wanted.setdefault((flipped.shape, flipped.tobytes()), []).append((key, True))
    layout: dict[str, bool] = {}
    lifted = []
    for init in list(graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT or len(init.dims) > 2:
            continue
        array = numpy_helper.to_array(init)
        matches = wanted.get((array.shape, np.ascontiguousarray(array).tobytes()), [])
        if not matches:
            continue
        if len(matches) > 1 or matches[0][0] in layout:
            raise ModelPreparationError(
                f"cannot tell adapter tensors apart in the exported graph ({init.name} "
                f"matches {[m[0] for m in matches]}); export from another adapter"
            )
        key, transposed = matches[0]
        layout[key] = transposed
        lifted.append((init, key))
    missing = sorted(set(template) - set(layout))
    if missing:
        raise ModelPreparationError(
            f"{len(missing)} adapter tensors are not weights of the exported graph "
            f"(for example {missing[0]}); the exporter folded them into other constants"
        )
    for init, key in lifted:
        for node in graph.node:
            for i, name in enumerate(node.input):
                if name == init.name:
                    node.input[i] = key
        graph.input.append(
            onnx.helper.make_tensor_value_info(key, onnx.TensorProto.FLOAT, list(init.dims))
        )
        # an input with an initializer of its name is optional (onnxruntime's Python
        # API rejects a run that leaves a required input to the adapter); the default
        # is zeros, so a run without an adapter adds no LoRA and scores every label 0
        init.name = key
        zeros = np.zeros(tuple(init.dims), dtype=np.float32)
        init.CopyFrom(numpy_helper.from_array(zeros, key))
    onnx.checker.check_model(model)
    return model, layout


def write_onnx_adapter(
    tensors: dict[str, npt.NDArray[Any]], layout: dict[str, bool], path: Path
) -> None:
    """One adapter's tensors in onnxruntime's adapter format, laid out as the graph reads
    them (the same keys as the graph's adapter inputs, or an error)."""
    import onnxruntime as ort

    if set(tensors) != set(layout):
        extra = sorted(set(tensors) ^ set(layout))
        raise AdapterError(
            f"adapter tensors do not match the graph's adapter inputs (for example "
            f"{extra[0]}); every adapter must be trained with the same LoRA configuration"
        )
    values = {}
    for key, value in tensors.items():
        array = np.ascontiguousarray(value.T if layout[key] else value, dtype=np.float32)
        values[key] = ort.OrtValue.ortvalue_from_numpy(array)
    adapter = ort.AdapterFormat()
    adapter.set_adapter_version(1)
    adapter.set_model_version(1)
    adapter.set_parameters(values)
    adapter.export_adapter(str(path))


def _check_parity(registry: AdapterRegistry, names: Sequence[str]) -> dict[str, Any]:
    """Logits of the exported graph and adapters against PEFT, adapter by adapter."""
    from entivec.ner.onnx_engine import OnnxNerModel
    from entivec.ner.peft_engine import NerModel

    torch_model = NerModel(registry)
    onnx_model = OnnxNerModel(registry)
    sentences = [list(s) for s in CHECK_SENTENCES]
    worst = 0.0
    for name in names:
        expected = torch_model.logits(name, sentences)
        got = onnx_model.logits(name, sentences)
        for e, g in zip(expected, got, strict=True):
            worst = max(worst, float(np.max(np.abs(e - g))))
        if worst > MAX_LOGIT_DIFFERENCE:
            raise ModelPreparationError(
                f"the ONNX graph with adapter {name!r} disagrees with PEFT: logits differ "
                f"by {worst:.2e} > {MAX_LOGIT_DIFFERENCE}"
            )
    return {"max_logit_difference": float(f"{worst:.3g}"), "sentences": len(sentences)}


def export_ner_onnx(root: Path, *, force: bool = False) -> dict[str, Any]:
    """Export the registry in ``root`` to one ONNX graph plus one adapter file per adapter.

    Idempotent: when the registry's manifest already records an export of the same
    adapters (same checksums) and its files are intact, nothing is rebuilt (but the int8
    graph, when it is missing).

    Returns:
        The ``onnx`` section of the registry manifest.

    Raises:
        AdapterError: The registry is missing, empty or corrupt.
        ModelPreparationError: The export does not reproduce PEFT's logits.
    """
    registry = AdapterRegistry(root)
    if not registry.names:
        raise AdapterError(f"{root} holds no adapters; train them with `entivec train lora`")
    sources = {name: registry.entry(name).files[ADAPTER_WEIGHTS] for name in registry.names}
    current = registry.onnx_export
    # "checks" is written last: an export interrupted before its parity check is redone
    if not force and "checks" in current and current.get("sources") == sources:
        try:
            registry.verified_onnx_files()
            if INT8_CHECK in current["checks"]:
                log.info("the ONNX export in %s is up to date", root / ONNX_FOLDER)
                return current
            return _add_int8(root, current)
        except AdapterError as exc:
            log.warning("rebuilding the ONNX export: %s", exc)
    folder = root / ONNX_FOLDER
    folder.mkdir(exist_ok=True)
    # a trained adapter has no zero or repeated tensors, so each matches one initializer
    template_name = registry.names[0]
    template = _adapter_tensors(registry, template_name)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        raw = Path(tmp) / "raw.onnx"
        log.info("exporting the NER graph with adapter %s active", template_name)
        export_ner_graph(registry, template_name, raw)
        model, layout = _lift_adapter_inputs(raw, template)
        import onnx

        onnx.save(model, str(Path(tmp) / ONNX_GRAPH))
        (Path(tmp) / ONNX_GRAPH).replace(folder / ONNX_GRAPH)
    (folder / ONNX_LAYOUT).write_text(json.dumps(layout, indent=1, sort_keys=True) + "\n")
    files = {ONNX_GRAPH: sha256(folder / ONNX_GRAPH), ONNX_LAYOUT: sha256(folder / ONNX_LAYOUT)}
    for name in registry.names:
        path = folder / f"{name}{ONNX_ADAPTER_SUFFIX}"
        write_onnx_adapter(_adapter_tensors(registry, name), layout, path)
        files[path.name] = sha256(path)
    export: dict[str, Any] = {"files": files, "sources": sources, "template": template_name}
    write_onnx_export(root, export)
    export["checks"] = _check_parity(AdapterRegistry(root), registry.names)
    write_onnx_export(root, export)
    return _add_int8(root, export)


def _add_int8(root: Path, export: dict[str, Any]) -> dict[str, Any]:
    """The int8 graph beside the export's fp32 one (:mod:`entivec.build.ner.quantize`),
    checked to tag the check sentences as fp32 does with every adapter."""
    from entivec.build.ner.quantize import MIN_TAG_AGREEMENT, quantize_ner, tag_agreement
    from entivec.ner.onnx_engine import OnnxNerModel

    folder = root / ONNX_FOLDER
    layout = json.loads((folder / ONNX_LAYOUT).read_text(encoding="utf-8"))
    export = {**export, "files": dict(export["files"]), "checks": dict(export["checks"])}
    export["checks"].pop(INT8_CHECK, None)
    export["files"][ONNX_INT8_GRAPH] = sha256(quantize_ner(folder, set(layout)))
    write_onnx_export(root, export)
    registry = AdapterRegistry(root)
    agreement = tag_agreement(
        OnnxNerModel(registry),
        OnnxNerModel(registry, graph=ONNX_INT8_GRAPH),
        registry.names,
        [list(s) for s in CHECK_SENTENCES],
    )
    if agreement < MIN_TAG_AGREEMENT:
        # the fp32 export stands; --engine onnx-int8 says the graph failed its check
        log.warning(
            "the int8 NER graph tags %.1f%% of the check sentences' words as fp32 does (at "
            "least %.0f%% expected); it is not kept",
            100 * agreement,
            100 * MIN_TAG_AGREEMENT,
        )
        del export["files"][ONNX_INT8_GRAPH]
        write_onnx_export(root, export)
        (folder / ONNX_INT8_GRAPH).unlink(missing_ok=True)
    # recorded last: an export interrupted before this check quantizes again
    export["checks"][INT8_CHECK] = round(agreement, 4)
    write_onnx_export(root, export)
    return export
