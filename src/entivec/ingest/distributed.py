"""Encoding spread over a Ray cluster: the same ingestion, its encoders on Ray actors.

Encoding is what bounds ingestion (about 170 sentences/s for ``e5`` on two cores,
against 8,000 points/s that Qdrant Edge takes in), so only the encoders move:
``workers`` Ray actors, one CPU each, each load every plugin of the run once. A window's
texts are cut into one contiguous share per actor, encoded in parallel and put back in
order. Everything else is :func:`entivec.ingest.pipeline.ingest` as it runs in one process: the
validation pass, ids, payloads, fingerprints, the skip-or-rewrite decision against the
store, the writes and the clean-up. So a distributed run writes the same points as a
single-process one and resumes the same way. Annotating raw text (routing, NER) stays in
this process too.

An encoder sorts a call's texts by length into onnxruntime batches, so a share's batches
differ from one process's and a vector can differ in its last float bits (cosine above
0.99999, tests/test_distributed.py); ids, payloads and the ``encoded_by`` versions are
the same, so either kind of run skips what the other stored.

``ray.init()`` joins the cluster ``$RAY_ADDRESS`` names, else starts a local one. Ray is
an optional extra: ``pip install 'entivec[distributed]'``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from entivec.errors import InvalidArgumentError
from entivec.extras import require_extra

if TYPE_CHECKING:
    from entivec.mentions import SpanInput
    from entivec.registry import Encoder, EncoderSpec


def start_ray(workers: int) -> None:
    """Connect to (or start) Ray, with room for ``workers`` actors per plugin.

    Raises:
        MissingDependencyError: Ray is not installed.
        InvalidArgumentError: ``workers`` is below 1, or above the cluster's CPUs.
    """
    if workers < 1:
        raise InvalidArgumentError(f"workers must be at least 1, got {workers}")
    require_extra("distributed", ("ray",), "encoding on a Ray cluster")
    import ray

    if not ray.is_initialized():
        ray.init(ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if cpus < workers:
        # an actor that no node can place would wait for ever
        raise InvalidArgumentError(
            f"the Ray cluster has {cpus} CPUs and each worker takes one; ask for at most "
            f"{cpus} workers, or add nodes"
        )


class _EncoderActor:
    """The loaded encoders of every plugin in a Ray worker process (one onnxruntime
    thread, one CPU)."""

    def __init__(self, plugins: list[str], variant: str) -> None:
        os.environ["ENTIVEC_THREADS"] = "1"
        from entivec.registry import get_registry

        self.encoders = {}
        for plugin in plugins:
            spec = get_registry().encoder(plugin)
            chosen = variant if variant in spec.variants else spec.variants[0]
            self.encoders[plugin] = spec.load(variant=chosen)

    def versions(self) -> dict[str, str]:
        return {p: str(getattr(e, "version", "") or "") for p, e in self.encoders.items()}

    def run(self, plugin: str, method: str, items: list[Any]) -> Any:
        return getattr(self.encoders[plugin], method)(items)


class RayEncoder:
    """An :class:`~entivec.registry.Encoder` whose work is shared by Ray actors.

    Args:
        spec: The plugin this encoder stands for.
        actors: The workers, each holding every plugin's encoder.
        version: The plugin's version, as every worker reported it.
    """

    def __init__(self, spec: EncoderSpec, actors: list[Any], version: str) -> None:
        self.spec = spec
        self._actors = actors
        self.version = version or None

    def _shared(self, method: str, items: Sequence[Any]) -> Any:
        import ray

        shares = _shares(len(items), len(self._actors))
        futures = [
            actor.run.remote(self.spec.name, method, list(items[start:stop]))
            for actor, (start, stop) in zip(self._actors, shares, strict=False)
        ]
        parts = ray.get(futures)
        if self.spec.sparse:
            return [vector for part in parts for vector in part]
        if not parts:
            return np.zeros((0, self.spec.size), dtype=np.float32)
        return np.concatenate(parts)

    def embed_passages(self, texts: list[str]) -> Any:
        """See :class:`entivec.registry.Encoder`."""
        return self._shared("embed_passages", texts)

    def embed_queries(self, texts: list[str]) -> Any:
        """See :class:`entivec.registry.Encoder`."""
        return self._shared("embed_queries", texts)

    def embed_mentions(self, items: Sequence[SpanInput]) -> Any:
        """See :class:`entivec.registry.MentionEncoder`."""
        return self._shared("embed_mentions", items)


def _shares(n: int, workers: int) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` shares of ``n`` items, one per worker at most."""
    step = -(-n // workers)
    return [(start, min(n, start + step)) for start in range(0, n, step)] if n else []


def ray_encoders(specs: Sequence[EncoderSpec], variant: str, workers: int) -> list[Encoder]:
    """One :class:`RayEncoder` per plugin, over ``workers`` actors that each load every
    plugin (Ray started or joined first).

    Raises:
        InvalidArgumentError: The workers' model files differ.
    """
    from typing import cast

    start_ray(workers)
    import ray

    actor: Any = ray.remote(num_cpus=1)(_EncoderActor)
    actors = [actor.remote([s.name for s in specs], variant) for _ in range(workers)]
    reported = ray.get([a.versions.remote() for a in actors])
    encoders = []
    for spec in specs:
        versions = {r[spec.name] for r in reported}
        if len(versions) != 1:
            raise InvalidArgumentError(
                f"the {spec.name} encoders on the Ray workers differ "
                f"({', '.join(sorted(versions))}); every node needs the same artefact"
            )
        encoders.append(cast("Encoder", RayEncoder(spec, actors, versions.pop())))
    return encoders
