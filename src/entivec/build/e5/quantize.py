"""The int8 variant of the e5 artefact.

Measured on WikiANN (bench/ingest.py and bench/README.md): onnxruntime's ``quantize_dynamic``
(int8 weights, one activation scale per tensor) ran ~2.4x faster than fp32 but kept only
0.63 (per-tensor weights) to 0.75 (per-channel) of the fp32 top-10 neighbours: e5's
similarities are packed between 0.8 and 0.9, so small errors reorder them. Quantising
a single encoder layer that way already cost 3-8 points of recall, so keeping a few
sensitive layers in fp32 does not rescue it. Its per-tensor activation scale also
makes a sentence's vector depend on its batch-mates.

What is used instead: every MatMul as ``MatMulNBits`` with 8-bit symmetric weights in
blocks of 128 and ``accuracy_level=4`` (int8 arithmetic; activations quantised per row
and block at run time, as llama.cpp's Q8 does); the fused attention (QKV projection and
softmax) stays fp32. A vector moves with its batch-mates only by kernel rounding
(cosine >= 0.9999). The top-10 overlap with fp32 is 0.95 on 3,000 sentences and 0.93
on 60,000 (float rounding alone gives 0.99). Blocks of 32 or 64 kept more recall but
ran no faster than fp32 here; 4-bit weights lost it.

On a Xeon with AMX (2 cores, onnxruntime 1.31; 3,000 WikiANN val sentences, 600 train
queries), the picture changes but the target stays out of reach. PyTorch ran 204
sentences/s, fp32 ONNX 235 and this recipe 238 (MatMulNBits has no AMX kernel; recall
0.957). ``quantize_dynamic``, whose u8s8 GEMM does use AMX, ran 595 (per tensor, recall
0.66) and 578 (per channel, 0.77). The activations explain the loss: ``<s>`` and ``</s>``
carry values up to 70 in one or two channels, against 3-7 for every other token, so a
per-tensor scale spends its 256 levels on them. Three repairs, each measured on top of
the last (per-channel weights throughout):

- SmoothQuant (alpha 0.7; per-channel scales calibrated on WikiANN train, folded into
  the weights): 551 sentences/s, recall 0.889;
- those one or two channels kept out of the int8 product and multiplied in fp32: 457,
  0.92;
- per-token activation scales for the FFN output projection, the most sensitive MatMul:
  406, 0.944.

Every layer and every kind of MatMul (QKV, attention output, FFN in, FFN out) costs 1-2
points of recall, so no subset kept in fp32 recovers 0.95 while staying fast. Only the
fine-grained activation blocks of ``MatMulNBits`` keep recall near 0.96, and they get
no AMX.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from entivec.errors import ModelPreparationError

BITS = 8
BLOCK_SIZE = 128
ACCURACY_LEVEL = 4  # int8 compute
MIN_COSINE = 0.995


def quantize_e5(fp32: Path, out: Path, tokenizer: Path) -> dict[str, Any]:
    """Write the int8 graph of ``fp32`` to ``out`` and check it against fp32.

    Returns:
        The recipe and the lowest cosine to fp32 on the check sentences.
    """
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    from entivec.build.prepare.models import CHECK_SENTENCES
    from entivec.plugins.onnx_sentence import OnnxSentenceEncoder

    config = DefaultWeightOnlyQuantConfig(
        block_size=BLOCK_SIZE, is_symmetric=True, accuracy_level=ACCURACY_LEVEL, bits=BITS
    )
    quantizer = MatMulNBitsQuantizer(
        str(fp32),
        bits=BITS,
        block_size=BLOCK_SIZE,
        is_symmetric=True,
        accuracy_level=ACCURACY_LEVEL,
        algo_config=config,
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(out), use_external_data_format=False)
    texts = list(CHECK_SENTENCES)
    reference = OnnxSentenceEncoder(fp32, tokenizer).embed(texts)
    quantized = OnnxSentenceEncoder(out, tokenizer).embed(texts)
    cosine = float(np.min((reference * quantized).sum(-1)))
    if cosine < MIN_COSINE:
        raise ModelPreparationError(
            f"the int8 e5 graph drifted from fp32: cosine {cosine:.4f} < {MIN_COSINE}"
        )
    return {
        "recipe": f"MatMulNBits {BITS}-bit, block {BLOCK_SIZE}, accuracy_level {ACCURACY_LEVEL}",
        "min_cosine_vs_fp32": round(cosine, 5),
    }
