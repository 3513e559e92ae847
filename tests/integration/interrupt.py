"""Start an ingestion in a subprocess and kill it with SIGKILL part of the way in."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest


def kill_partway(
    command: list[str],
    total: int,
    *,
    fraction: float = 1 / 3,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run ``command`` and SIGKILL it once its progress bar shows ``fraction`` of ``total``."""
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=cwd, env=env
    )
    # a pipe with the default buffering: read1 returns what is there without waiting for more
    stderr = process.stderr
    assert isinstance(stderr, io.BufferedReader)
    progress, done = b"", 0
    while done < total * fraction:
        chunk = stderr.read1(4096)
        if not chunk:
            pytest.fail(f"ingestion ended before it could be interrupted: {progress[-500:]!r}")
        progress += chunk
        counts = re.findall(rb"(\d+)/%d" % total, progress)
        done = int(counts[-1]) if counts else 0
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
