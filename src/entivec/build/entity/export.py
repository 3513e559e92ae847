"""Export the entity encoder to one ONNX graph: truncated decoder, value read-out, projection.

The graph takes ``input_ids`` and ``attention_mask`` (one row per text) and, per mention,
``mention_row`` (its text's row), ``last_token`` (its span's last token) and ``is_query``
(1.0 when the "mention" is a query, a type name read alone, which gets the projection's
query shift), and returns one unit-length projected value vector per mention: the
mentions of a sentence share one forward pass. Blocks after the last chosen one are not
in the model, and the rest of that block (attention output, MLP) feeds no output, so the
exporter prunes it: the graph computes the blocks up to the last chosen one and its
value projection, not the 30 blocks of a full forward pass.

::

    artefacts/entity/model.onnx, tokenizer.json, entivec-manifest.json
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from entivec.errors import ModelNotPreparedError, ModelPreparationError
from entivec.models import artefact_dir, model_dir, read_manifest, sha256

log = logging.getLogger(__name__)

ENTITY_EXPORT_VERSION = 2
ONNX_MIN_COSINE = 0.999
OPSET = 17
GRAPH_INPUTS = ("input_ids", "attention_mask", "mention_row", "last_token", "is_query")
CHECK_TEXTS = (
    ("Barack Obama visited Paris with the Labour Party .", 12),
    ("The enzyme lactase breaks down lactose .", 18),
)
CHECK_QUERIES = ("political party", "band")


def build_entity_graph(model_folder: Path, blocks: Sequence[int], projection: Any) -> Any:
    """A truncated decoder and the projection as one traceable ``torch.nn.Module``."""
    import torch
    from transformers import AutoModelForCausalLM

    decoder = AutoModelForCausalLM.from_pretrained(
        model_folder, dtype=torch.float32, attn_implementation="eager"
    ).get_decoder()
    decoder.layers = decoder.layers[: max(blocks) + 1]

    class EntityGraph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.decoder = decoder
            self.projection = projection
            self.captured: dict[int, torch.Tensor] = {}
            for block in blocks:
                decoder.layers[block].self_attn.v_proj.register_forward_hook(self._capture(block))

        def _capture(self, block: int) -> Any:
            def hook(_module: Any, _inputs: Any, output: torch.Tensor) -> None:
                self.captured[block] = output

            return hook

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            mention_row: torch.Tensor,
            last_token: torch.Tensor,
            is_query: torch.Tensor,
        ) -> torch.Tensor:
            self.captured.clear()
            # transformers builds its causal mask with vmap, which the ONNX tracer cannot
            # follow; a 4-D additive mask is used as given
            length = input_ids.shape[1]
            causal = torch.ones(length, length, dtype=torch.bool).tril()
            allowed = causal[None, None] & attention_mask[:, None, None, :].bool()
            additive = torch.zeros(allowed.shape, dtype=torch.float32).masked_fill(
                ~allowed, torch.finfo(torch.float32).min
            )
            self.decoder(input_ids=input_ids, attention_mask=additive, use_cache=False)
            values = torch.cat(
                [self.captured[block][mention_row, last_token] for block in blocks], dim=-1
            )
            projected = self.projection(values, is_query)
            return torch.nn.functional.normalize(projected, dim=-1)

    return EntityGraph().eval()


def load_projection(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The trained projection of ``entivec train entity`` and its manifest."""
    from safetensors.torch import load_file

    from entivec.build.entity.train import EntityRecipe, build_projection

    if not (folder / "projection.safetensors").is_file():
        raise ModelNotPreparedError(
            f"no trained entity projection in {folder}; run `entivec train entity conll "
            "../shared/data/crossner/*/train.txt --dev ...` (see docs/commands.md)"
        )
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    recipe = EntityRecipe.from_manifest(manifest["recipe"])
    projection = build_projection(manifest["value_size"], recipe)
    projection.load_state_dict(load_file(folder / "projection.safetensors"))
    return projection.eval(), manifest


def export_entity_graph(
    model_folder: Path, blocks: Sequence[int], projection: Any, out: Path
) -> dict[str, Any]:
    """Write ``out/model.onnx`` and ``out/tokenizer.json``; check the graph against torch."""
    import onnxruntime as ort
    import torch

    from entivec.build.entity.train import concatenated, project
    from entivec.build.entity.value_vectors import ValueVectorExtractor
    from entivec.mentions import SpanInput, query_input

    graph = build_entity_graph(model_folder, blocks, projection)
    extractor = ValueVectorExtractor(model_folder, blocks)
    items = [SpanInput(text, end) for text, end in CHECK_TEXTS]
    # the first sentence twice: two mentions read from one row
    items.insert(1, SpanInput(CHECK_TEXTS[0][0], len("Barack Obama visited Paris")))
    queries = [query_input(text) for text in CHECK_QUERIES]
    is_query = np.array([0.0] * len(items) + [1.0] * len(queries), dtype=np.float32)
    items += queries
    texts = sorted({item.text for item in items})
    encoded = [extractor.token_ids(text) for text in texts]
    width = max(len(ids) for ids, _ in encoded)
    ids = np.zeros((len(items), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, (tokens, _) in enumerate(encoded):
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1
    mention_row = np.array([texts.index(item.text) for item in items])
    last = np.array(
        [
            extractor.last_token(item, encoded[row][1])
            for item, row in zip(items, mention_row, strict=True)
        ]
    )
    out.mkdir(parents=True, exist_ok=True)
    with torch.inference_mode():
        torch.onnx.export(
            graph,
            tuple(torch.from_numpy(a) for a in (ids, mask, mention_row, last, is_query)),
            str(out / "model.onnx"),
            input_names=list(GRAPH_INPUTS),
            output_names=["entity"],
            dynamic_axes={
                "input_ids": {0: "texts", 1: "tokens"},
                "attention_mask": {0: "texts", 1: "tokens"},
                "mention_row": {0: "mentions"},
                "last_token": {0: "mentions"},
                "is_query": {0: "mentions"},
                "entity": {0: "mentions"},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    tokenizer_file = model_folder / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise ModelPreparationError(f"{model_folder} has no tokenizer.json to ship")
    shutil.copyfile(tokenizer_file, out / "tokenizer.json")
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = dict(zip(GRAPH_INPUTS, (ids, mask, mention_row, last, is_query), strict=True))
    onnx_vectors = session.run(None, feeds)[0]
    values = concatenated(extractor.encode(items, show_progress=False), blocks)
    reference = np.concatenate(
        [
            project(projection, values[is_query == 0]),
            project(projection, values[is_query == 1], queries=True),
        ]
    )
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    cosine = float(np.min((onnx_vectors * reference).sum(-1)))
    if cosine < ONNX_MIN_COSINE:
        raise ModelPreparationError(
            f"the entity ONNX graph disagrees with PyTorch: cosine {cosine:.6f} < {ONNX_MIN_COSINE}"
        )
    return {"min_cosine_onnx_vs_torch": round(cosine, 7), "blocks_computed": max(blocks) + 1}


def prepare_entity_artefact(training: Path, *, force: bool = False) -> dict[str, Any]:
    """Export the trained projection in ``training`` as the ``entity`` plugin's artefact."""
    from entivec.build.prepare.models import build_once

    projection, trained = load_projection(training)
    recipe = trained["recipe"]
    source = model_dir(recipe["model"])
    manifest = {
        "plugin": "entity",
        "export_version": ENTITY_EXPORT_VERSION,
        "source_model": recipe["model"],
        "source_weights": read_manifest(source)["files"].get("model.safetensors", ""),
        "projection": sha256(training / "projection.safetensors"),
        "blocks": recipe["blocks"],
        "prefix_token": recipe["prefix_token"],
        "size": recipe["output"],
        "training": trained,
    }

    def build(out: Path) -> dict[str, Any]:
        return export_entity_graph(source, recipe["blocks"], projection, out)

    return build_once(
        artefact_dir("entity"), build, manifest, what="the entity plugin", force=force
    )
