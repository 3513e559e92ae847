"""Optional extras: a missing one becomes one line naming the pip command.

The check looks the packages up without importing them, so a run-time module that only
guards (and never runs the heavy code) does not pay for, or depend on, the import.
"""

from __future__ import annotations

from importlib.util import find_spec

from entivec.errors import MissingDependencyError


def require_extra(extra: str, modules: tuple[str, ...], purpose: str) -> None:
    """Raise :class:`MissingDependencyError` unless every module of ``modules`` is installed.

    Args:
        extra: The entivec extra that installs them (``export``).
        modules: Top-level module names (``("torch", "transformers")``).
        purpose: What needs them, for the message (``"the PEFT NER engine"``).
    """
    for module in modules:
        if find_spec(module) is None:
            raise MissingDependencyError(
                f"{purpose} needs the {extra} extra ({module} is missing): "
                f"pip install 'entivec[{extra}]'"
            )
