"""``python -m entivec``."""

from __future__ import annotations

from entivec.cli import main

main()
