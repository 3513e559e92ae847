"""The one exception hierarchy of entivec.

Every error raised on purpose by entivec derives from :class:`EntivecError` and also
from the builtin it is closest to, so callers can catch either. Messages say what
failed, the offending value, the valid choices and, where there is one, the command
that fixes it. The CLI turns any :class:`EntivecError` into a one-line message and a
non-zero exit status.
"""

from __future__ import annotations


class EntivecError(Exception):
    """Base class of every error entivec raises on purpose."""


class EntivecWarning(UserWarning):
    """Category of every warning entivec emits."""


class CorpusFormatError(EntivecError, ValueError):
    """A corpus file does not follow its format.

    Attributes:
        path: The file.
        line: 1-based line number of the offending line (``None`` for the whole file).
    """

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


class UnknownFormatError(EntivecError, KeyError):
    """A corpus format name that no loader is registered for."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class UnknownPluginError(EntivecError, KeyError):
    """An encoder plugin name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


class PluginRegistrationError(EntivecError, ValueError):
    """A plugin tried to register an invalid or duplicate name."""


class ModelNotPreparedError(EntivecError, FileNotFoundError):
    """A model artefact is missing from the cache; `entivec models prepare` makes it."""


class ModelPreparationError(EntivecError, RuntimeError):
    """Converting or verifying packaged weights failed; nothing was written to the cache."""


class MissingDependencyError(EntivecError, ImportError):
    """An optional dependency (an extra, or a weights package) is not installed."""


class StoreError(EntivecError, RuntimeError):
    """The vector store (Qdrant Edge or a Qdrant server) failed."""


class StoreLockedError(StoreError):
    """Another process has the Qdrant Edge store open."""


class SchemaMismatchError(StoreError, ValueError):
    """An existing collection's vectors differ from what was asked."""


class InvalidStoreError(EntivecError, ValueError):
    """A STORE argument that is neither a directory path nor an http(s) URL."""


class CorpusNotFoundError(EntivecError, FileNotFoundError):
    """A corpus path that does not exist or is not a file."""


class SourceNameConflictError(EntivecError, FileExistsError):
    """A corpus file named like another file whose points the collection holds."""


class TrainingDataError(EntivecError, ValueError):
    """Training data that cannot train what was asked (too few languages, no labels)."""


class AdapterError(EntivecError, LookupError):
    """A LoRA adapter that is not registered, missing, or fails its checksum."""


class InvalidArgumentError(EntivecError, ValueError):
    """An argument outside its allowed values (the message lists them)."""
