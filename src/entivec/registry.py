"""The plugin registry: encoders and corpus loaders, found through entry points.

Every package that extends entivec, the built-ins included, declares an entry point in
the group ``entivec.plugins`` whose value is a ``register(registry)`` callable. The
registry calls each one once, on first use; names are checked when they register, so
a clash fails at start-up and not in the middle of an ingestion.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from entivec.errors import PluginRegistrationError, UnknownFormatError, UnknownPluginError
from entivec.loaders.base import LoadStats
from entivec.records import Sentence

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from entivec.mentions import SpanInput

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "entivec.plugins"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Distance = Literal["cosine", "dot", "euclid"]


class Encoder(Protocol):
    """What the store and the query layer need from a loaded encoder.

    An encoder may also have a ``version`` attribute, a string that changes whenever its
    vectors would (the built-in plugins give their model file's checksum): ingestion
    records it per vector in ``encoded_by`` and re-encodes points another version wrote.
    """

    def embed_passages(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for texts to be stored, one row per text."""
        ...

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for search queries, one row per text."""
        ...


class MentionEncoder(Encoder, Protocol):
    """An encoder of entity mentions (``embeds="mention"``): one vector per span."""

    def embed_mentions(self, items: Sequence[SpanInput]) -> npt.NDArray[np.float32]:
        """Vectors of spans in their texts, one row per item."""
        ...


class Loader(Protocol):
    """A corpus reader: streams one file's sentences, counting into ``stats``."""

    def __call__(
        self, path: Path, *, language: str | None, corpus: str, stats: LoadStats
    ) -> Iterator[Sentence]: ...


@dataclass(frozen=True)
class EncoderSpec:
    """A registered encoder plugin.

    Attributes:
        name: Plugin name, lower-case (``e5``).
        vector: Name of the Qdrant named vector it fills.
        size: Vector dimension.
        distance: Qdrant distance.
        embeds: ``sentence`` (one point per sentence) or ``mention`` (one per entity span).
        artefact: Where its model lives (may not exist until ``entivec models prepare``);
            ``None`` for an encoder without a model file.
        load: Builds the encoder; called once, when first needed. Keyword options are
            plugin-specific (``variant="int8"``).
        variants: Artefact variants ``load`` accepts, the first being the default.
        description: One line for ``entivec plugins``.
        build_command: The command that builds a missing artefact.
        sparse: It fills a sparse vector (token weights, ``size`` 0) and its
            ``embed_*`` methods return lists of :class:`entivec.store.SparseVector`.
    """

    name: str
    vector: str
    size: int
    distance: Distance
    embeds: Literal["sentence", "mention"]
    artefact: Callable[[], Path | None]
    load: Callable[..., Encoder]
    variants: tuple[str, ...] = ("fp32",)
    description: str = ""
    build_command: str = "entivec models prepare"
    sparse: bool = False


class Registry:
    """Encoders and loaders by name."""

    def __init__(self) -> None:
        self._encoders: dict[str, EncoderSpec] = {}
        self._loaders: dict[str, Loader] = {}

    def add_encoder(self, spec: EncoderSpec) -> None:
        """Register an encoder plugin.

        Raises:
            PluginRegistrationError: The name or vector name is invalid or taken.
        """
        _check_name("encoder", spec.name, self._encoders)
        _check_name("vector", spec.vector, {s.vector: s for s in self._encoders.values()})
        if spec.sparse != (spec.size == 0) or spec.size < 0:
            raise PluginRegistrationError(
                f"encoder {spec.name!r}: size must be positive for a dense vector and 0 for a "
                f"sparse one, got {spec.size} ({'sparse' if spec.sparse else 'dense'})"
            )
        self._encoders[spec.name] = spec

    def remove_encoder(self, name: str) -> None:
        """Take encoder plugin ``name`` out of the registry (a test's fake, say).

        Raises:
            UnknownPluginError: No such encoder.
        """
        self.encoder(name)
        del self._encoders[name]

    def add_loader(self, name: str, loader: Loader) -> None:
        """Register a corpus format.

        Raises:
            PluginRegistrationError: The name is invalid or taken.
        """
        _check_name("format", name, self._loaders)
        self._loaders[name] = loader

    def encoder(self, name: str) -> EncoderSpec:
        """The encoder registered as ``name``.

        Raises:
            UnknownPluginError: No such encoder; the message lists the registered ones.
        """
        try:
            return self._encoders[name]
        except KeyError:
            raise UnknownPluginError(
                f"no encoder plugin named {name!r}; installed: {', '.join(sorted(self._encoders))}"
                " (see `entivec plugins`)"
            ) from None

    def encoder_for_vector(self, vector: str) -> EncoderSpec:
        """The encoder that fills the named vector ``vector``."""
        for spec in self._encoders.values():
            if spec.vector == vector:
                return spec
        raise UnknownPluginError(
            f"no encoder plugin fills the vector {vector!r}; vectors: "
            f"{', '.join(sorted(s.vector for s in self._encoders.values()))}"
        )

    def loader(self, name: str) -> Loader:
        """The loader registered for format ``name``."""
        try:
            return self._loaders[name]
        except KeyError:
            raise UnknownFormatError(
                f"unknown corpus format {name!r}; expected one of: "
                f"{', '.join(sorted(self._loaders))}"
            ) from None

    @property
    def encoders(self) -> list[EncoderSpec]:
        """All registered encoders, by name."""
        return [self._encoders[n] for n in sorted(self._encoders)]

    @property
    def formats(self) -> list[str]:
        """All registered corpus formats."""
        return sorted(self._loaders)


def _check_name(kind: str, name: str, taken: Mapping[str, object]) -> None:
    if not _NAME.match(name):
        raise PluginRegistrationError(
            f"{kind} name {name!r} must be lower-case letters, digits and underscores"
        )
    if name in taken:
        raise PluginRegistrationError(f"{kind} name {name!r} is registered twice")


def registers(*specs: EncoderSpec) -> Callable[[Registry], None]:
    """The ``register(registry)`` entry point of a plugin module that adds ``specs``.

    A plugin module declares what it is (its :class:`EncoderSpec`) and gets its entry
    point from here, as llm's built-ins get theirs from the same hook as third parties:
    ``register = registers(SPEC)``.
    """

    def register(registry: Registry) -> None:
        for spec in specs:
            registry.add_encoder(spec)

    register.__doc__ = f"Entry point: the {', '.join(s.name for s in specs)} plugin."
    return register


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, filled from the ``entivec.plugins`` entry points once."""
    global _registry
    if _registry is None:
        registry = Registry()
        for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
            log.debug("loading plugin %s from %s", point.name, point.value)
            point.load()(registry)
        _registry = registry
    return _registry
