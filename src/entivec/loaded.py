"""What an :class:`~entivec.api.Entivec` loads once and reuses: encoders, NER engines, the
stores routing reads, the wide language identifier, and the LM that writes exemplars.

Loading an ONNX graph or opening a store costs far more than one query, so the query
layer, annotation and ingestion ask this object rather than loading for themselves.

Qdrant Edge lets one process open a directory, and every raw-text ingest routes against
the one routing index shipped with the models: two ingests into two stores at once
collided there. Routing only reads the index, so a process that finds it open elsewhere
reads a private copy instead (146 MB, copied in about a second, removed on close).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from entivec.errors import InvalidArgumentError, StoreLockedError
from entivec.models import adapters_dir, routing_index_dir
from entivec.registry import Encoder, EncoderSpec, get_registry
from entivec.store import Store, open_store

if TYPE_CHECKING:
    from entivec.annotation.langid import WideIdentifier
    from entivec.ner.tagging import NerEngine
    from entivec.query.exemplars import ExemplarWriter

log = logging.getLogger(__name__)
NER_ENGINES = ("onnx", "onnx-int8", "torch")


class Loaded:
    """Encoders by plugin, NER engines by (registry, engine), stores by path.

    Args:
        variant: The encoder artefact variant (``fp32`` or ``int8``) to load where a
            plugin has it; a plugin without it loads its first variant.
    """

    def __init__(self, variant: str = "fp32") -> None:
        self.variant = variant
        self.encoders: dict[str, Encoder] = {}
        self.ner_engines: dict[tuple[str, str], NerEngine] = {}
        self.stores: dict[str, Store] = {}
        self.exemplar_writer: ExemplarWriter | None = None
        self.copies: list[Path] = []

    def encoder(self, plugin: str) -> tuple[EncoderSpec, Encoder]:
        """The spec and the loaded encoder of ``plugin``."""
        spec = get_registry().encoder(plugin)
        if plugin not in self.encoders:
            variant = self.variant if self.variant in spec.variants else spec.variants[0]
            self.encoders[plugin] = spec.load(variant=variant)
        return spec, self.encoders[plugin]

    def encoder_for_vector(self, vector: str) -> tuple[EncoderSpec, Encoder]:
        """The spec and the loaded encoder of the plugin that fills ``vector``."""
        return self.encoder(get_registry().encoder_for_vector(vector).name)

    def ner_engine(self, adapters: str | Path | None = None, engine: str = "onnx") -> NerEngine:
        """The NER model with the adapters of registry ``adapters`` (by default the one
        ``entivec train lora`` writes), on ``onnx``, ``onnx-int8`` or ``torch``.

        Raises:
            InvalidArgumentError: An unknown engine.
            AdapterError: No registry, or no ONNX export for the ``onnx`` engine.
        """
        if engine not in NER_ENGINES:
            raise InvalidArgumentError(
                f"unknown NER engine {engine!r}; expected one of: {', '.join(NER_ENGINES)}"
            )
        folder = Path(adapters) if adapters is not None else adapters_dir()
        key = (str(folder.resolve()), engine)
        if key not in self.ner_engines:
            from entivec.ner.adapters import AdapterRegistry

            registry = AdapterRegistry(folder)
            if engine in ("onnx", "onnx-int8"):
                from entivec.ner.onnx_engine import OnnxNerModel

                self.ner_engines[key] = OnnxNerModel(registry, int8=engine == "onnx-int8")
            else:
                from entivec.ner.peft_engine import NerModel

                self.ner_engines[key] = NerModel(registry)
        return self.ner_engines[key]

    def store(self, location: str | Path) -> Store:
        """The store at ``location`` (a directory or a URL), opened once."""
        key = str(location)
        if key not in self.stores:
            try:
                self.stores[key] = open_store(key)
            except StoreLockedError:
                shipped = routing_index_dir()
                if "://" in key or Path(key).resolve() != shipped.resolve():
                    raise
                self.stores[key] = open_store(str(self._private_copy(shipped)))
        return self.stores[key]

    def _private_copy(self, index: Path) -> Path:
        """A copy of the routing index ``index`` for this process alone."""
        folder = Path(tempfile.mkdtemp(prefix="entivec-routing-index-"))
        self.copies.append(folder)
        log.info("the routing index is open in another process; routing reads a copy")
        shutil.copytree(index, folder / "index")
        return folder / "index"

    def exemplars(self) -> ExemplarWriter:
        """The LM that writes instances of a type (loaded on first use)."""
        if self.exemplar_writer is None:
            from entivec.query.exemplars import ExemplarWriter

            self.exemplar_writer = ExemplarWriter()
        return self.exemplar_writer

    def wide_identifier(self) -> WideIdentifier:
        """The identifier routing consults for languages outside its index."""
        from entivec.annotation.langid import wide_identifier

        return wide_identifier()  # one per process, shared with segmentation

    def close(self) -> None:
        """Close the stores opened here."""
        for store in self.stores.values():
            store.close()
        self.stores.clear()
        for folder in self.copies:
            shutil.rmtree(folder, ignore_errors=True)
        self.copies.clear()
