"""What the benchmarks ran on, written into every result file.

int8 speed depends on the CPU more than anything else: measured with the same code,
the int8 e5 graph ran 1.24x fp32 on one host and 0.57x on an AVX2-only AMD EPYC (no
VNNI int8 dot-product instructions), so a figure without its CPU means little.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

INT8_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def describe() -> dict[str, Any]:
    """CPU model, usable cores and the SIMD flags that decide int8 and fp32 kernels."""
    model, flags = platform.processor() or platform.machine(), set[str]()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "simd": [flag for flag in INT8_FLAGS if flag in flags],
        "python": platform.python_version(),
    }


def headline(machine: dict[str, Any]) -> str:
    """One line for the top of a benchmark's printed table."""
    return f"{machine['cpu']}, {machine['cores']} cores, {' '.join(machine['simd']) or 'no AVX2'}"
