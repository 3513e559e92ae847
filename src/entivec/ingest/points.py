"""What a point is: its id, its payload (the schema in the README, "What gets stored"),
the fingerprint of its content, and the version of the encoder behind each vector.

A sentence point's id is the uuid5 of (corpus, source file, sentence id in the file); a
mention point's adds the span and its type, so two types over the same tokens are two
points and two files never share one.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from entivec.records import Sentence, Span
from entivec.registry import Encoder, EncoderSpec
from entivec.store import sentence_point_id

if TYPE_CHECKING:
    from entivec.mentions import Mention

# payload keys that describe how a point was made rather than what it holds (the file's
# location changes when the corpus moves; its points stay the same)
BOOKKEEPING = ("fingerprint", "encoded_by", "location")


def sentence_id_of(sentence: Sentence) -> str:
    """The id of a sentence's point."""
    return sentence_point_id(sentence.corpus, sentence.source, sentence.id)


def fingerprint(payload: dict[str, Any]) -> str:
    """The content fingerprint of a payload: sha256 of everything but the bookkeeping."""
    content = {k: v for k, v in payload.items() if k not in BOOKKEEPING}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def stamped(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with its content :func:`fingerprint` added."""
    payload["fingerprint"] = fingerprint(payload)
    return payload


def sentence_payload(sentence: Sentence) -> dict[str, Any]:
    """The payload of a sentence point (the schema in the README, "What gets stored"),
    without the bookkeeping that ingestion adds."""
    payload = {
        "kind": "sentence",
        "text": sentence.text,
        "sentence_id": sentence.id,
        "language": sentence.language or None,
        "entity_type": sorted({s.type for s in sentence.spans}),
        "spans": [_span_payload(sentence, s) for s in sentence.spans],
        "corpus": sentence.corpus,
        "split": sentence.split,
        "source": sentence.source,
        **_provenance(sentence),
    }
    if sentence.location:
        payload["location"] = sentence.location
    if sentence.document and sentence.doc_span is not None:
        payload["doc_id"] = sentence.document
        payload["doc_start"], payload["doc_end"] = sentence.doc_span
    return payload


def _span_payload(sentence: Sentence, span: Span) -> dict[str, Any]:
    """A span by its tokens and by its characters in the stored ``text``."""
    char_start, char_end = sentence.char_offsets(span)
    return {
        "start": span.start,
        "end": span.end,
        "type": span.type,
        "char_start": char_start,
        "char_end": char_end,
    }


def _provenance(sentence: Sentence) -> dict[str, Any]:
    """Where the language and the spans came from (the README, "Your own text")."""
    found: dict[str, Any] = {
        "language_source": sentence.language_source or None,
        "span_source": sentence.span_source or None,
    }
    if sentence.language_confidence is not None:
        found["language_confidence"] = sentence.language_confidence
    if sentence.ner_adapter:
        found["ner_adapter"] = sentence.ner_adapter
    if sentence.annotation_key:
        found["annotation_key"] = sentence.annotation_key
    return found


def mention_payload(mention: Mention) -> dict[str, Any]:
    """The payload of a mention point: the mention, its type, and where it is."""
    sentence, span = mention.sentence, mention.span
    start, end = sentence.char_offsets(span)
    payload = {
        "kind": "mention",
        "text": mention.text,
        "sentence_text": sentence.text,
        "sentence_id": sentence.id,
        "language": sentence.language or None,
        "entity_type": span.type,
        "span": {"start": start, "end": end, "token_start": span.start, "token_end": span.end},
        "corpus": sentence.corpus,
        "split": sentence.split,
        "source": sentence.source,
        **_provenance(sentence),
    }
    if sentence.location:
        payload["location"] = sentence.location
    return payload


def encoder_version(spec: EncoderSpec, encoder: Encoder) -> str:
    """What identifies the vectors an encoder computes: its ``version`` attribute (the
    built-in plugins give their model file's checksum), else the plugin's name."""
    return f"{spec.name}:{getattr(encoder, 'version', '') or 'unversioned'}"
