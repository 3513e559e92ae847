"""The ``e5`` plugin: multilingual-e5-small in onnxruntime, named vector ``e5``.

e5 was trained with a ``query: `` prefix on queries and ``passage: `` on stored texts;
the plugin applies them, so callers pass plain text. Variants: ``fp32`` (default) and
``int8`` (8-bit ``MatMulNBits``, see docs/models.md).
"""

from __future__ import annotations

from entivec.plugins.onnx_sentence import sentence_plugin
from entivec.registry import registers

QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
NAME = "e5"
VARIANTS = {"fp32": "model.onnx", "int8": "model_int8.onnx"}

SPEC, load = sentence_plugin(
    NAME,
    files=VARIANTS,
    size=384,
    description="multilingual-e5-small (ONNX), cross-lingual sentence search",
    build_command="entivec models prepare",
    query_prefix=QUERY_PREFIX,
    passage_prefix=PASSAGE_PREFIX,
)
register = registers(SPEC)
