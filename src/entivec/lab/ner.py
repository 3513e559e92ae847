"""``entivec eval ner``: seqeval F1 per language for three ways of choosing the adapter.

- ``true language``: each sentence runs with the monolingual adapter of its gold language;
- ``joint``: every sentence runs with the adapter trained on all languages;
- ``routed``: each sentence runs with the adapter its route selects (the joint one when
  unrouted), as ``extract`` does. The gap to ``true language`` is the cost of routing
  errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from entivec.annotation.extraction import choose_adapter
from entivec.errors import AdapterError, CorpusNotFoundError, MissingDependencyError
from entivec.loaders import load
from entivec.ner.adapters import JOINT
from entivec.ner.tagging import tags_from_spans
from entivec.records import Sentence

if TYPE_CHECKING:
    from entivec.api import Entivec


def span_f1(gold: list[list[str]], predicted: list[list[str]]) -> float:
    try:
        from seqeval.metrics import f1_score
    except ImportError as exc:
        raise MissingDependencyError("seqeval is not installed: pip install seqeval") from exc
    return round(float(f1_score(gold, predicted)), 4)


def evaluate_ner(
    ev: Entivec,
    adapters: Path,
    format: str,
    paths: Sequence[Path],
    *,
    limit: int | None = None,
    engine: str = "onnx",
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """F1 per language and on average for true-language, joint and routed selection
    (``engine``: ``onnx``, ``onnx-int8`` or ``torch``, see :meth:`Entivec.ner_model`)."""
    for path in paths:
        if not Path(path).is_file():
            raise CorpusNotFoundError(f"{path} does not exist or is not a file")
    model = ev.ner_model(adapters, engine)
    registry = model.registry
    if JOINT not in registry.names:
        raise AdapterError(f"{adapters} has no {JOINT!r} adapter to compare with")
    by_language: dict[str, list[Sentence]] = {}
    for path in paths:
        for s in load(format, [Path(path)], limit=limit):
            by_language.setdefault(s.language, []).append(s)
    missing = sorted(set(by_language) - set(registry.names))
    if missing:
        raise AdapterError(
            f"no adapter for {', '.join(missing)} in {adapters}; registered: "
            f"{', '.join(registry.names)}"
        )
    router = ev.router()
    rows: dict[str, dict[str, Any]] = {}
    for language, sentences in tqdm(
        sorted(by_language.items()), desc="eval ner", disable=show_progress is False
    ):
        words = [list(s.tokens) for s in sentences]
        gold = [tags_from_spans(len(s.tokens), s.spans) for s in sentences]
        own = model.predict(language, words)
        joint = model.predict(JOINT, words)
        routes = router.route([s.text for s in sentences])
        chosen = [choose_adapter(registry, r) for r in routes]
        routed = list(own)
        for name in set(chosen) - {language}:
            rows_for = [i for i, c in enumerate(chosen) if c == name]
            for i, tags in zip(
                rows_for, model.predict(name, [words[i] for i in rows_for]), strict=True
            ):
                routed[i] = tags
        rows[language] = {
            "sentences": len(sentences),
            "routing_accuracy": round(sum(c == language for c in chosen) / len(chosen), 4),
            "f1_true_language": span_f1(gold, own),
            "f1_joint": span_f1(gold, joint),
            "f1_routed": span_f1(gold, routed),
        }
    mean = {
        key: round(sum(r[key] for r in rows.values()) / len(rows), 4)
        for key in ("routing_accuracy", "f1_true_language", "f1_joint", "f1_routed")
    }
    return {
        "adapters": str(adapters),
        "lora": registry.entry(JOINT).info.get("lora"),
        "by_language": rows,
        "mean": mean,
    }
