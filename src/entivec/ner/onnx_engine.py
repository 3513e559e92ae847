"""The NER model in onnxruntime: one base graph, LoRA adapters activated per run.

``entivec export ner`` (:mod:`entivec.build.ner.export`) writes the graph, whose
LoRA weights and classifier head are inputs, and one ``.onnx_adapter`` file per adapter.
Loading an adapter reads and verifies its file once (``onnxruntime.LoraAdapter``);
activating it makes the next runs use a ``RunOptions`` that carries it, so a switch
costs no copy and no graph change. Needs neither torch nor transformers.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from entivec.errors import AdapterError
from entivec.ner.adapters import (
    INT8_CHECK,
    ONNX_ADAPTER_SUFFIX,
    ONNX_GRAPH,
    ONNX_INT8_GRAPH,
    AdapterRegistry,
)
from entivec.ner.tagging import (
    AdapterTagger,
    WordBatch,
    check_base_model,
    word_tokenizer,
)
from entivec.onnx_sessions import inference_session

log = logging.getLogger(__name__)


def _check_int8(registry: AdapterRegistry) -> None:
    """Raise :class:`AdapterError` unless the export holds an int8 graph that passed the
    exporter's check (tagging the check sentences as fp32 does)."""
    agreement = registry.onnx_export.get("checks", {}).get(INT8_CHECK)
    if ONNX_INT8_GRAPH in registry.onnx_files() and agreement is not None:
        return
    if agreement is not None:
        raise AdapterError(
            f"the int8 NER graph of {registry.root} tagged {agreement:.1%} of the check "
            "sentences' words as fp32 does and was not kept; use --engine onnx"
        )
    raise AdapterError(
        f"the ONNX export in {registry.root} has no checked int8 graph; run "
        f"`entivec export ner --adapters {registry.root}`"
    )


class OnnxNerModel(AdapterTagger):
    """The exported NER graph with the adapters of a registry, loaded on first use.

    Args:
        registry: An adapter registry with an ONNX export (``entivec export ner``).
        batch_size: Sentences per run.
        threads: onnxruntime intra-op threads (default: one per available core).
        int8: Run the graph with int8 weights (:mod:`entivec.build.ner.quantize`): 1.4x
            the speed of fp32 where the CPU has VNNI or AMX, no faster where it has not.
        graph: The export's file to run, unchecked (the exporter checks a new int8
            graph this way); by default as ``int8`` says.

    Raises:
        AdapterError: No export, or a file of it missing or corrupt.
    """

    def __init__(
        self,
        registry: AdapterRegistry,
        *,
        batch_size: int = 32,
        threads: int | None = None,
        int8: bool = False,
        graph: str | None = None,
    ) -> None:
        check_base_model(registry)
        self.registry = registry
        self.labels = registry.labels
        self.batch_size = batch_size
        if graph is None:
            if int8:
                _check_int8(registry)
            graph = ONNX_INT8_GRAPH if int8 else ONNX_GRAPH
        self.int8 = graph == ONNX_INT8_GRAPH
        # the adapter inputs carry default initializers on purpose (see the exporter);
        # onnxruntime warns once per input about it at load, which is noise here
        self._session = inference_session(
            registry.verified_onnx_file(graph), threads=threads, quiet=True
        )
        self.tokenizer = word_tokenizer()
        self._run_options: dict[str, Any] = {}
        self.loaded: list[str] = []
        self.active: str | None = None

    def load_adapter(self, name: str) -> None:
        """Read and verify adapter ``name``'s ONNX file (once; later calls do nothing)."""
        if name in self.loaded:
            return
        import onnxruntime as ort

        self.registry.entry(name)  # an unregistered name fails with the registered ones
        file = f"{name}{ONNX_ADAPTER_SUFFIX}"
        if file not in self.registry.onnx_files():
            raise AdapterError(
                f"adapter {name!r} is registered but not in the ONNX export; run "
                f"`entivec export ner --adapters {self.registry.root}`"
            )
        path = self.registry.verified_onnx_file(file)
        adapter = ort.LoraAdapter()
        adapter.Load(str(path))
        run_options = ort.RunOptions()
        run_options.add_active_adapter(adapter)
        # the RunOptions keeps a pointer to the adapter, which must outlive it
        self._run_options[name] = (run_options, adapter)
        self.loaded.append(name)
        log.debug("loaded ONNX adapter %s from %s", name, path)

    def set_adapter(self, name: str) -> None:
        """Make adapter ``name`` the one the next runs use, loading it first if needed."""
        self.load_adapter(name)
        self.active = name

    def _forward(self, batch: WordBatch) -> npt.NDArray[np.float32]:
        if self.active is None:
            raise AdapterError("no adapter is active; call set_adapter(name) first")
        run_options, _ = self._run_options[self.active]
        (logits,) = self._session.run(
            ["logits"],
            {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask},
            run_options,
        )
        return np.asarray(logits, dtype=np.float32)
