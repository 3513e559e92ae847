"""Training the type-aware projection of NER Retriever (arXiv 2509.04011).

The decoder stays frozen: the value vectors of blocks :data:`DEFAULT_BLOCKS` (the two
best of ``entivec eval layers``, concatenated) at each mention's last token are computed
once and cached, and only the projection ``Linear(d, 500) → SiLU → Dropout(0.1) →
Linear(500, 500)`` learns, with a triplet loss whose distance is 1 − cosine and margin
0.5. Anchors are type names embedded through the same pipeline; positives are mentions
of the anchor's type; negatives are mentions of another type, :data:`HARD_FRACTION` of
them from the types nearest to the anchor's (hard negatives), the rest from any other
type.

Data: the CrossNER ``train`` files, at most :data:`PER_TYPE` mentions per type, with the
held-out types of :mod:`entivec.loaders.crossner` and the catch-all ``misc`` left out
entirely, so searching a held-out type is zero-shot. Budget: :data:`EPOCHS` epochs over
those mentions, seconds on two cores once the value vectors are cached (extracting them
takes a few minutes the first time). What this recipe learns from the six CrossNER
``train`` files ships with entivec (:mod:`entivec.build.entity.shipped`), and is
installed from that copy rather than trained again.

With only 28 training type names the MLP memorises them: at AdamW 1e-3 for 40 epochs
dev R-Precision of trained types rose from .43 (raw) to .70 while held-out types fell
from .40 to .33. At 1e-4 for 20 epochs both rise (.61 and .45), hence the defaults.

What the unseen types need is the raw vectors' geometry, which the triplet loss, pulling
mentions towards 28 anchors, is free to discard. So a second term (weight
:data:`GEOMETRY_WEIGHT`) keeps it, as relational knowledge distillation does: the mean
squared difference between the batch's mention-to-mention cosines after projection and
before it (on standardised value vectors). On dev (three seeds, held-out types) it took
R-Precision from .445-.452 to .478-.482 and trained types from .60-.61 to .63-.65; weights
5, 10 and 20 were within .006 of each other.

A type name read alone and a mention read in its sentence sit in different regions of
value space (a modality gap, as between captions and images): so a query's value vector
is moved by the difference of the two means measured in training, the training
mentions' minus the training type names' (``query_shift``, a buffer of the projection
that the ONNX graph applies to rows marked as queries). Together with block 21 beside 22
it lifted dev R-Precision of held-out types from .419 to .441 averaged over four
different held-out splits of ten types (two seeds each; better on three of the four),
and of trained types by .03-.05 on every split; each change alone gained a third of
that (+.009 for the shift, +.007 for block 21).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from entivec.build.entity.shipped import install, shipped_match
from entivec.build.entity.value_vectors import ValueVectorExtractor
from entivec.build.metrics import sentence_r_precision
from entivec.errors import TrainingDataError
from entivec.loaders.crossner import HELD_OUT_TYPES, NOT_A_QUERY, type_name
from entivec.mentions import PREFIX_TOKEN, Mention, mentions_of, query_input
from entivec.models import cache_dir, model_dir, read_manifest, sha256
from entivec.query.language_model import DEFAULT_MODEL
from entivec.records import Sentence
from entivec.vectors import unit

log = logging.getLogger(__name__)

DEFAULT_BLOCKS = (21, 22)
PER_TYPE = 600
HARD_FRACTION = 0.1
HARD_TYPES = 3
EPOCHS = 20
BATCH_SIZE = 256
LEARNING_RATE = 1e-4
MARGIN = 0.5
GEOMETRY_WEIGHT = 5.0
HIDDEN = 500
OUTPUT = 500
DROPOUT = 0.1
SEED = 0


@dataclass(frozen=True)
class EntityRecipe:
    """Everything that determines a trained projection (written to its manifest)."""

    model: str = DEFAULT_MODEL
    blocks: tuple[int, ...] = DEFAULT_BLOCKS
    prefix_token: str = PREFIX_TOKEN
    query_shift: bool = True
    per_type: int = PER_TYPE
    held_out_types: tuple[str, ...] = tuple(sorted(HELD_OUT_TYPES))
    hard_fraction: float = HARD_FRACTION
    hard_types: int = HARD_TYPES
    epochs: int = EPOCHS
    batch_size: int = BATCH_SIZE
    learning_rate: float = LEARNING_RATE
    margin: float = MARGIN
    geometry_weight: float = GEOMETRY_WEIGHT
    hidden: int = HIDDEN
    output: int = OUTPUT
    dropout: float = DROPOUT
    seed: int = SEED

    @classmethod
    def from_manifest(cls, fields: dict[str, Any]) -> EntityRecipe:
        """The recipe written by ``dataclasses.asdict`` (JSON turned its tuples into lists)."""
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in fields.items()
        }
        return cls(**values)


def training_dir() -> Path:
    """Where ``entivec train entity`` keeps its cached features and its result."""
    return cache_dir() / "training" / "entity"


def build_projection(value_size: int, recipe: EntityRecipe) -> Any:
    """The paper's MLP, preceded by the query shift and a fixed standardisation."""
    import torch

    class Projection(torch.nn.Module):
        mean: torch.Tensor
        scale: torch.Tensor
        query_shift: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.zeros(value_size))
            self.register_buffer("scale", torch.ones(value_size))
            self.register_buffer("query_shift", torch.zeros(value_size))
            self.mlp = torch.nn.Sequential(
                torch.nn.Linear(value_size, recipe.hidden),
                torch.nn.SiLU(),
                torch.nn.Dropout(recipe.dropout),
                torch.nn.Linear(recipe.hidden, recipe.output),
            )

        def forward(self, values: torch.Tensor, is_query: torch.Tensor) -> torch.Tensor:
            """``is_query`` is 1.0 for rows that are queries (type names), 0.0 for mentions."""
            shifted = values + is_query[:, None] * self.query_shift
            return self.mlp((shifted - self.mean) * self.scale)

    return Projection()


def training_mentions(sentences: Sequence[Sentence], recipe: EntityRecipe) -> list[Mention]:
    """At most ``per_type`` mentions of each training type, drawn with the recipe's seed."""
    by_type: dict[str, list[Mention]] = defaultdict(list)
    for mention in mentions_of(sentences):
        label = mention.span.type
        if label not in NOT_A_QUERY and label not in recipe.held_out_types:
            by_type[label].append(mention)
    if len(by_type) < 2:
        raise TrainingDataError(
            f"entity training needs mentions of at least two types; found {sorted(by_type)}"
        )
    rng = random.Random(recipe.seed)
    chosen = []
    for label in sorted(by_type):
        group = by_type[label]
        chosen += rng.sample(group, min(recipe.per_type, len(group)))
    return chosen


def dev_mentions_of(dev: Sequence[Sentence]) -> list[Mention]:
    """The mentions of ``dev`` that R-Precision is reported on (``misc`` is no query).

    Raises:
        TrainingDataError: ``dev`` has none.
    """
    found = [m for m in mentions_of(dev) if m.span.type not in NOT_A_QUERY]
    if not found:
        raise TrainingDataError("the dev sentences have no annotated mentions to evaluate on")
    return found


def fingerprints(
    chosen: Sequence[Mention], dev: Sequence[Mention], recipe: EntityRecipe
) -> dict[str, str]:
    """What a trained projection records of its data: digests of the training and the
    dev mentions (text, end, type) with the model and blocks they were read from."""
    return {"training": _fingerprint(chosen, recipe), "dev": _fingerprint(dev, recipe)}


def _fingerprint(mentions: Sequence[Mention], recipe: EntityRecipe) -> str:
    digest = hashlib.sha256()
    for part in (recipe.model, ",".join(map(str, recipe.blocks)), recipe.prefix_token):
        digest.update(part.encode() + b"\0")
    for m in mentions:
        digest.update(f"{m.input.text}\0{m.input.end}\0{m.span.type}\n".encode())
    return digest.hexdigest()[:16]


def _extractor(recipe: EntityRecipe) -> ValueVectorExtractor:
    return ValueVectorExtractor(
        model_dir(recipe.model), recipe.blocks, prefix_token=recipe.prefix_token
    )


def concatenated(values: dict[int, np.ndarray], blocks: Sequence[int]) -> np.ndarray:
    """The value vectors of ``blocks``, side by side in that order."""
    return np.concatenate([values[block] for block in blocks], axis=1)


def value_features(
    mentions: Sequence[Mention],
    recipe: EntityRecipe,
    show_progress: bool | None = None,
    *,
    extractor: Callable[[], ValueVectorExtractor] | None = None,
) -> np.ndarray:
    """Raw value vectors of ``mentions``, cached by content so a rerun reuses them.

    ``extractor`` supplies the decoder when the cache misses (default: load the
    recipe's); pass one loader to several calls to load the decoder once."""
    from safetensors.numpy import load_file, save_file

    path = training_dir() / "features" / f"{_fingerprint(mentions, recipe)}.safetensors"
    if path.is_file():
        return load_file(path)["values"]
    read = (extractor or partial(_extractor, recipe))()
    encoded = read.encode([m.input for m in mentions], show_progress=show_progress)
    values = concatenated(encoded, recipe.blocks)
    path.parent.mkdir(parents=True, exist_ok=True)
    unfinished = path.with_suffix(".partial")
    save_file({"values": values}, unfinished)
    unfinished.replace(path)
    return values


def query_features(
    labels: Sequence[str],
    recipe: EntityRecipe,
    *,
    extractor: Callable[[], ValueVectorExtractor] | None = None,
) -> np.ndarray:
    """Raw value vectors of the type names of ``labels`` (``extractor`` as for
    :func:`value_features`)."""
    inputs = [query_input(type_name(label)) for label in labels]
    read = (extractor or partial(_extractor, recipe))()
    return concatenated(read.encode(inputs, show_progress=False), recipe.blocks)


def _hard_types(anchor_values: np.ndarray, count: int) -> np.ndarray:
    """For each type, the ``count`` other types whose names are most similar (raw)."""
    similarity = unit(anchor_values) @ unit(anchor_values).T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1)[:, :count]


def train_projection(
    values: np.ndarray,
    labels: Sequence[str],
    anchor_values: np.ndarray,
    anchor_labels: Sequence[str],
    recipe: EntityRecipe,
    show_progress: bool | None = None,
) -> Any:
    """Fit the projection with the triplet loss; returns it in eval mode."""
    import torch
    from tqdm.auto import trange

    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    type_index = {label: i for i, label in enumerate(anchor_labels)}
    codes = np.array([type_index[label] for label in labels])
    members = [np.flatnonzero(codes == t) for t in range(len(anchor_labels))]
    hard = _hard_types(anchor_values, recipe.hard_types)
    projection = build_projection(values.shape[1], recipe)
    projection.mean.copy_(torch.from_numpy(values.mean(axis=0)))
    projection.scale.copy_(torch.from_numpy(1.0 / (values.std(axis=0) + 1e-6)))
    if recipe.query_shift:
        shift = values.mean(axis=0) - anchor_values.mean(axis=0)
        projection.query_shift.copy_(torch.from_numpy(shift))
    optimiser = torch.optim.AdamW(projection.parameters(), lr=recipe.learning_rate)
    mentions = torch.from_numpy(values)
    anchors = torch.from_numpy(anchor_values)
    standardised = (mentions - projection.mean) * projection.scale
    projection.train()
    for _epoch in trange(recipe.epochs, desc="entity projection", disable=show_progress is False):
        order = rng.permutation(len(codes))
        for start in range(0, len(order), recipe.batch_size):
            positives = order[start : start + recipe.batch_size]
            types = codes[positives]
            negatives = np.empty_like(positives)
            for i, t in enumerate(types):
                if rng.random() < recipe.hard_fraction:
                    other = hard[t][rng.integers(len(hard[t]))]
                else:
                    other = (t + 1 + rng.integers(len(anchor_labels) - 1)) % len(anchor_labels)
                negatives[i] = members[other][rng.integers(len(members[other]))]
            a = projection(anchors[types], torch.ones(len(types)))
            p = projection(mentions[positives], torch.zeros(len(positives)))
            n = projection(mentions[negatives], torch.zeros(len(negatives)))
            cos = torch.nn.functional.cosine_similarity
            loss = torch.relu(cos(a, n) - cos(a, p) + recipe.margin).mean()
            if recipe.geometry_weight:
                loss = loss + recipe.geometry_weight * _geometry_loss(p, standardised[positives])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return projection.eval()


def _geometry_loss(projected: Any, raw: Any) -> Any:
    """Mean squared difference of the pairwise cosines of a batch after and before the
    projection."""
    import torch

    after = torch.nn.functional.normalize(projected, dim=-1)
    before = torch.nn.functional.normalize(raw, dim=-1)
    return ((after @ after.T - before @ before.T) ** 2).mean()


def project(projection: Any, values: np.ndarray, *, queries: bool = False) -> np.ndarray:
    """Projected vectors of raw value vectors: of type names if ``queries``, else of mentions."""
    import torch

    with torch.inference_mode():
        is_query = torch.full((len(values),), float(queries))
        return projection(torch.from_numpy(values), is_query).numpy()


def evaluate_types(
    query_vectors: np.ndarray,
    query_labels: Sequence[str],
    mention_vectors: np.ndarray,
    mentions: Sequence[Mention],
) -> dict[str, float]:
    """Sentence-level R-Precision per type, by exact search over ``mentions``."""
    scores = unit(query_vectors) @ unit(mention_vectors).T
    return sentence_r_precision(
        scores, query_labels, [m.span.type for m in mentions], [m.sentence.id for m in mentions]
    )


def summarise(per_type: dict[str, float], held_out: Sequence[str]) -> dict[str, Any]:
    trained = [v for k, v in per_type.items() if k not in held_out]
    unseen = [v for k, v in per_type.items() if k in held_out]
    return {
        "trained_types": round(float(np.mean(trained)), 4) if trained else None,
        "held_out_types": round(float(np.mean(unseen)), 4) if unseen else None,
        "per_type": {k: round(v, 4) for k, v in sorted(per_type.items())},
    }


def train_entity(
    train: Sequence[Sentence],
    dev: Sequence[Sentence],
    recipe: EntityRecipe | None = None,
    show_progress: bool | None = None,
    force: bool = False,
    out: Path | None = None,
) -> dict[str, Any]:
    """Train the projection, evaluate it on ``dev`` and save it with its manifest in
    ``out`` (by default the cache's ``training/entity/model``, which the plugin exports).

    A projection already trained by the same recipe on the same mentions is kept
    (unless ``force``), so setup scripts can call this every time; the shipped one is
    installed when it was trained on the same mentions.

    Returns:
        The manifest: the recipe, counts, and dev R-Precision of raw and projected
        vectors for trained and held-out types.
    """
    from safetensors.torch import save_file

    recipe = recipe or EntityRecipe()
    chosen, dev_mentions = training_mentions(train, recipe), dev_mentions_of(dev)
    fingerprint = fingerprints(chosen, dev_mentions, recipe)
    out = out or training_dir() / "model"
    recipe_json = json.loads(json.dumps(asdict(recipe)))
    source_weights = str(read_manifest(model_dir(recipe.model))["files"].get("model.safetensors"))
    if not force and (out / "manifest.json").is_file():
        existing: dict[str, Any] = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        if existing.get("fingerprint") == fingerprint and existing.get("recipe") == recipe_json:
            log.info("the entity projection is trained (%s)", out)
            return existing
    shipped = None if force else shipped_match(fingerprint, recipe_json, source_weights)
    if shipped is not None:
        log.info(
            "the entity projection: installed the shipped copy, trained on the same mentions "
            "by the same recipe (--retrain trains it here)"
        )
        return install(shipped, out)
    labels = [m.span.type for m in chosen]
    anchor_labels = sorted(set(labels))
    # one decoder for every read below, loaded only if some read is not cached
    decoder = cache(partial(_extractor, recipe))
    values = value_features(chosen, recipe, show_progress, extractor=decoder)
    anchor_values = query_features(anchor_labels, recipe, extractor=decoder)
    projection = train_projection(
        values, labels, anchor_values, anchor_labels, recipe, show_progress
    )
    dev_labels = sorted({m.span.type for m in dev_mentions})
    dev_values = value_features(dev_mentions, recipe, show_progress, extractor=decoder)
    dev_queries = query_features(dev_labels, recipe, extractor=decoder)
    raw = evaluate_types(dev_queries, dev_labels, dev_values, dev_mentions)
    projected = evaluate_types(
        project(projection, dev_queries, queries=True),
        dev_labels,
        project(projection, dev_values),
        dev_mentions,
    )
    out.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.contiguous() for k, v in projection.state_dict().items()},
        out / "projection.safetensors",
    )
    manifest = {
        "recipe": asdict(recipe),
        "fingerprint": fingerprint,
        "source_weights": source_weights,
        "projection_sha256": sha256(out / "projection.safetensors"),
        "value_size": int(values.shape[1]),
        "training_mentions": len(chosen),
        "training_types": anchor_labels,
        "dev_mentions": len(dev_mentions),
        "dev_r_precision": {
            "raw": summarise(raw, recipe.held_out_types),
            "projected": summarise(projected, recipe.held_out_types),
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
