"""Annotation at ingestion: a language for sentences that came without one, entity spans
for those that came without any.

A sentence whose language no flag, record or path gave is routed (RetrieveAll: the
``language`` payloads of its nearest labelled sentences, in the collection or in the
routing index shipped with the models; a language the index does not hold comes from
the router's wide identifier). A sentence routing cannot place on its own takes its
document's language when the document's other sentences agree on one
(``language_source: document``); otherwise it is stored with ``language: null``, never
guessed. A sentence without gold spans (raw text) is tagged by the NER LoRA adapter of
its language (the joint adapter when it has none or is unrouted), a window at a time,
grouped by adapter, in onnxruntime. What each sentence got, and from where, goes into
its payload (``language_source``, ``language_confidence``, ``span_source``,
``ner_adapter``).

Each annotated sentence records :meth:`Annotator.key`, a digest of what it was annotated
from (its text, what it came with, and the annotator's models), so ingesting an
unchanged sentence again restores its annotations instead of routing and tagging it anew.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Collection, Sequence

from entivec.annotation.extraction import adapter_for, tag_by_adapter
from entivec.annotation.langid import WideIdentifier
from entivec.annotation.routing import OUTSIDE_MIN_WORDS, Route, Router, word_count
from entivec.ner.tagging import NerEngine, mention_spans, spans_from_tags
from entivec.records import Sentence

# A document's language is the one at least this share of its placed sentences has, from
# at least two of them: a lone sentence is no context, and a mixed document has none
DOCUMENT_SHARE = 0.75
DOCUMENT_MIN_SENTENCES = 2
# the rules that turn the models' output into payloads; a change of them (2: a mention
# of written text loses the punctuation around its name) re-annotates stored sentences once
ANNOTATION_RULES = 2


def _placed_alone(sentence: Sentence) -> bool:
    """Whether a sentence's language stands on its own: given, or found for a sentence of
    enough words to say it."""
    if not sentence.language:
        return False
    if sentence.language_source not in ("routed", WideIdentifier.name):
        return sentence.language_source != "document"
    return word_count(sentence.text) >= OUTSIDE_MIN_WORDS


def _language_source(route: Route) -> str:
    """``routed``; the identifier's or fallback's name when it answered; ``""`` for none."""
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
        self.identity = self._identity()

    def _identity(self) -> str:
        """What the annotations depend on besides the sentence: the models and settings."""
        parts: dict[str, object] = {"force_ner": self.force_ner, "rules": ANNOTATION_RULES}
        if self.router is not None:
            parts["router"] = self.router.identity
        if self.ner is not None:
            manifest = json.dumps(self.ner.registry.manifest, sort_keys=True, default=str)
            parts["ner"] = hashlib.sha256(manifest.encode()).hexdigest()[:16]
            if getattr(self.ner, "int8", False):  # int8 tags differ from fp32's a little
                parts["ner_int8"] = True
        return json.dumps(parts, sort_keys=True)

    def key(self, sentence: Sentence) -> str:
        """A digest of what ``sentence`` would be annotated from: equal keys, equal
        annotations (so a stored sentence with this key need not be annotated again)."""
        given = {
            "text": sentence.text,
            "tokens": sentence.tokens,
            "language": sentence.language,
            "language_source": sentence.language_source,
            "gold": [(s.start, s.end, s.type) for s in sentence.spans]
            if sentence.span_source == "gold"
            else None,
            "document": sentence.document,
            "annotator": self.identity,
        }
        text = json.dumps(given, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def __call__(
        self,
        window: Sequence[Sentence],
        done: Collection[int] = (),
        keys: Sequence[str] | None = None,
    ) -> list[Sentence]:
        """The window with languages routed and spans predicted where they were missing.

        Args:
            done: Positions of sentences already annotated (restored from the store):
                they are not routed or tagged again, but lend their language to their
                document's other sentences.
            keys: The window's :meth:`key` of each sentence, when the caller has them.
        """
        sentences = list(window)
        todo = [i for i in range(len(sentences)) if i not in done]
        key_of = {i: keys[i] if keys is not None else self.key(sentences[i]) for i in todo}
        if self.router is not None:
            unknown = [i for i in todo if not sentences[i].language]
            routes = self.router.route([sentences[i].text for i in unknown]) if unknown else []
            for i, route in zip(unknown, routes, strict=True):
                sentences[i] = dataclasses.replace(
                    sentences[i],
                    language=route.language or "",
                    language_source=_language_source(route),
                    language_confidence=round(route.confidence, 4),
                )
            self._from_documents(sentences, unknown)
        if self.ner is not None:
            wanted = [i for i in todo if self.force_ner or sentences[i].span_source != "gold"]
            self._tag(self.ner, sentences, wanted)
        for i, key in key_of.items():
            sentences[i] = dataclasses.replace(sentences[i], annotation_key=key)
        return sentences

    @staticmethod
    def _from_documents(sentences: list[Sentence], rows: list[int]) -> None:
        """Give the sentences of ``rows`` that cannot be placed on their own (unrouted, or
        shorter than :data:`~entivec.annotation.routing.OUTSIDE_MIN_WORDS` words: a bare
        name, "Paris.") their document's language, where the document's other sentences
        agree on one."""
        by_document: dict[tuple[str, str], Counter[str]] = {}
        for sentence in sentences:
            if sentence.document and sentence.language and _placed_alone(sentence):
                document = (sentence.source, sentence.document)
                by_document.setdefault(document, Counter())[sentence.language] += 1
        for i in rows:
            sentence = sentences[i]
            if not sentence.document or _placed_alone(sentence):
                continue
            votes = by_document.get((sentence.source, sentence.document))
            if not votes:
                continue
            language, count = votes.most_common(1)[0]
            share = count / sum(votes.values())
            if count >= DOCUMENT_MIN_SENTENCES and share >= DOCUMENT_SHARE:
                sentences[i] = dataclasses.replace(
                    sentence,
                    language=language,
                    language_source="document",
                    language_confidence=round(share, 4),
                )

    @staticmethod
    def _tag(ner: NerEngine, sentences: list[Sentence], rows: list[int]) -> None:
        names = [adapter_for(ner.registry, sentences[i].language) for i in rows]
        tags = tag_by_adapter(ner, names, [sentences[i].tokens for i in rows])
        for i, name, sentence_tags in zip(rows, names, tags, strict=True):
            # written text's mentions are names; a corpus's spans keep its convention,
            # which its gold follows (WikiANN's take the quotes its tokens carry)
            spans = (
                mention_spans(sentence_tags, sentences[i].tokens)
                if sentences[i].offsets
                else spans_from_tags(sentence_tags)
            )
            sentences[i] = dataclasses.replace(
                sentences[i],
                spans=tuple(spans),
                span_source="ner",
                ner_adapter=name,
            )
