"""Annotation at ingestion: a language for sentences that came without one, entity spans
for those that came without any.

A sentence whose language no flag, record or path gave is routed (RetrieveAll: the
``language`` payloads of its nearest labelled sentences, in the collection or in the
routing index shipped with the models); one routing cannot place is stored with
``language: null``, never guessed. A sentence without gold spans (raw text) is tagged by
the NER LoRA adapter of its language (the joint adapter when it has none or is
unrouted), a window at a time, grouped by adapter, in onnxruntime. What each sentence
got, and from where, goes into its payload (``language_source``,
``language_confidence``, ``span_source``, ``ner_adapter``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from entivec.annotation.extraction import adapter_for, tag_by_adapter
from entivec.annotation.routing import Route, Router
from entivec.ner.tagging import NerEngine, spans_from_tags
from entivec.records import Sentence


def _language_source(route: Route) -> str:
    """``routed``; a fallback's name when it answered instead; ``""`` for no answer."""
    if route.routed:
        return "routed"
    return (route.source or "") if route.language else ""


class Annotator:
    """Fills in what a window of sentences lacks.

    Args:
        router: Routes sentences without a language; ``None`` leaves them as they are.
        ner: Tags sentences without gold spans; ``None`` tags nothing.
        force_ner: Tag every sentence, replacing gold spans (to evaluate the tagger).
    """

    def __init__(
        self, router: Router | None, ner: NerEngine | None, *, force_ner: bool = False
    ) -> None:
        self.router = router
        self.ner = ner
        self.force_ner = force_ner

    def __call__(self, window: Sequence[Sentence]) -> list[Sentence]:
        """The window with languages routed and spans predicted where they were missing."""
        sentences = list(window)
        if self.router is not None:
            unknown = [i for i, s in enumerate(sentences) if not s.language]
            routes = self.router.route([sentences[i].text for i in unknown]) if unknown else []
            for i, route in zip(unknown, routes, strict=True):
                source = _language_source(route)
                sentences[i] = dataclasses.replace(
                    sentences[i],
                    language=route.language or "",
                    language_source=source,
                    language_confidence=round(route.confidence, 4),
                )
        if self.ner is not None:
            wanted = [
                i for i, s in enumerate(sentences) if self.force_ner or s.span_source != "gold"
            ]
            self._tag(self.ner, sentences, wanted)
        return sentences

    @staticmethod
    def _tag(ner: NerEngine, sentences: list[Sentence], rows: list[int]) -> None:
        names = [adapter_for(ner.registry, sentences[i].language) for i in rows]
        tags = tag_by_adapter(ner, names, [sentences[i].tokens for i in rows])
        for i, name, sentence_tags in zip(rows, names, tags, strict=True):
            sentences[i] = dataclasses.replace(
                sentences[i],
                spans=tuple(spans_from_tags(sentence_tags)),
                span_source="ner",
                ner_adapter=name,
            )
