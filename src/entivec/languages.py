"""Language codes: what entivec accepts in a ``language`` payload.

A code is an ISO 639 language code, lower-case, two letters (``de``) or three (``yue``),
that the IANA language subtag registry knows (through ``langcodes``). The registry's
special codes (``und``, ``mul``, ``zxx``, ``mis``) name no language and are refused: a
sentence whose language is unknown is left for routing, not labelled "undetermined".
A folder or file name gives a language only when it is a two-letter ISO 639-1 code, since
many three-letter words (``val``, ``dev``) are ISO 639-3 codes too.
"""

from __future__ import annotations

import re
from functools import lru_cache

_SHAPE = re.compile(r"^[a-z]{2,3}$")
_NOT_A_LANGUAGE = frozenset({"und", "mul", "zxx", "mis"})


@lru_cache(maxsize=4096)
def is_language_code(code: str) -> bool:
    """Whether ``code`` is a lower-case ISO 639 code of a language."""
    import langcodes

    return bool(_SHAPE.match(code)) and code not in _NOT_A_LANGUAGE and langcodes.tag_is_valid(code)


def language_problem(code: object) -> str | None:
    """Why ``code`` is not a language code (a phrase for a message), or ``None`` if it is."""
    if not isinstance(code, str):
        return f"expected a language code (a string like 'de'), got {type(code).__name__}"
    if is_language_code(code):
        return None
    shown = code if len(code) <= 20 else code[:20] + "..."
    if code.lower() != code and is_language_code(code.lower()):
        return f"expected a lower-case language code, got {shown!r} (use {code.lower()!r})"
    return f"expected an ISO 639 language code like 'de' or 'yue', got {shown!r}"


def is_path_language(name: str) -> bool:
    """Whether a folder or file name ``name`` reads as a language: an ISO 639-1 code."""
    return len(name) == 2 and is_language_code(name)
