"""The ``e5_xling`` plugin: multilingual-e5-small fine-tuned for queries in any language
against English passages (``entivec train e5``), named vector ``e5_xling``.

It sits beside the base ``e5`` vector: cross-lingual search uses this one, routing
keeps the ``lang`` vector. Add it to a collection that already holds the others with
``entivec ingest ... --plugin e5_xling``: only the new vector is computed and written.
"""

from __future__ import annotations

from entivec.plugins.e5 import PASSAGE_PREFIX, QUERY_PREFIX
from entivec.plugins.onnx_sentence import sentence_plugin
from entivec.registry import registers

NAME = "e5_xling"
MODEL = "model.onnx"

SPEC, load = sentence_plugin(
    NAME,
    files={"fp32": MODEL},
    size=384,
    description="multilingual-e5-small fine-tuned on Tatoeba pairs (queries in any language "
    "against English passages)",
    build_command="entivec train e5 TATOEBA_DIR",
    missing_hint="entivec train e5 ../shared/data/tatoeba",
    query_prefix=QUERY_PREFIX,
    passage_prefix=PASSAGE_PREFIX,
)
register = registers(SPEC)
