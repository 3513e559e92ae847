"""The one place onnxruntime sessions are made: threads, providers and options.

Every plugin and the NER engine load their graphs here, so a thread setting or a provider
choice is decided once (as fastembed's ``OnnxModel`` does for its models).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from entivec.errors import InvalidArgumentError

PROVIDERS = ["CPUExecutionProvider"]
# onnxruntime's warnings (level 2) include one per optional graph input that carries a
# default initializer, which the NER graph has on purpose for its LoRA inputs
ERRORS_ONLY = 3


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    return max(1, len(os.sched_getaffinity(0)))


def default_threads() -> int:
    """Intra-op threads: ``$ENTIVEC_THREADS``, else one per CPU available to this process.

    More threads than CPUs only make them wait on each other (100,000 of them stalled a
    two-core machine for minutes), so a larger setting is refused.

    Raises:
        InvalidArgumentError: ``$ENTIVEC_THREADS`` is not a whole number from 1 to the
            CPUs available.
    """
    configured = os.environ.get("ENTIVEC_THREADS", "").strip()
    cpus = available_cpus()
    if configured:
        if not configured.isascii() or not configured.isdigit() or not 1 <= int(configured) <= cpus:
            raise InvalidArgumentError(
                f"ENTIVEC_THREADS must be a whole number from 1 to {cpus} (the CPUs this "
                f"process may use), got {configured[:20]!r}"
            )
        return int(configured)
    return cpus


def inference_session(graph: Path, *, threads: int | None = None, quiet: bool = False) -> Any:
    """An ``onnxruntime.InferenceSession`` of ``graph`` on the CPU.

    Args:
        graph: The ``.onnx`` file.
        threads: Intra-op threads; see :func:`default_threads`. Inter-op parallelism is
            off: the graphs are one chain of operators.
        quiet: Log only onnxruntime's errors, not its warnings.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if quiet:
        options.log_severity_level = ERRORS_ONLY
    return ort.InferenceSession(str(graph), options, providers=PROVIDERS)
