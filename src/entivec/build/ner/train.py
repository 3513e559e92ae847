"""Training per-language LoRA adapters (and one joint adapter) for NER.

Data: :data:`SENTENCES_PER_LANGUAGE` training sentences per language, batches of
:data:`BATCH_SIZE`, :data:`EPOCHS` epochs. The joint adapter sees all languages'
sentences, with as many optimiser steps as one pass over each language.

A language's adapter, by default, *specialises* the joint one: it starts from the joint
adapter's weights (same rank, same head) and continues on its own language's sentences
for one more pass at :data:`SPECIALISE_LEARNING_RATE`. Trained from scratch on its
language alone (``from_scratch=True``, one pass, the first recipe), an adapter scored .559
F1 on WikiANN ``val`` against the joint adapter's .798: 125 steps are too few to learn
the task, so routing to a language's adapter cost F1 (docs/retrieveall.md has both).

Written text: a user's text comes as people write it ("Paris." with the full stop
attached, quotes, dashes), cut into words by :mod:`entivec.annotation.words`, while
WikiANN comes pre-tokenised. Each time a sentence is drawn for a batch, with probability
:data:`WRITTEN_SHARE` the adapter sees its written form instead
(:func:`entivec.build.ner.written.as_written_words`: detokenised by Moses' rules, cut
again, its gold spans carried over by characters), so it learns both.

LoRA: rank :data:`RANK` on the query, key and value projections and on every dense
layer of the encoder; the classifier head is trained and saved with each adapter
(``modules_to_save``), since each language's head is part of what the adapter learns.

What this recipe trains on the six WikiANN ``train`` splits ships with entivec
(:mod:`entivec.build.ner.shipped`): asked for the same adapters, :func:`train_lora`
installs them from that copy instead of training for a quarter of an hour.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from entivec.build.ner.shipped import install, recipe, shipped_copy, training_digest
from entivec.errors import TrainingDataError
from entivec.loaders import load
from entivec.ner.adapters import write_entry
from entivec.ner.peft_engine import load_base
from entivec.ner.tagging import (
    WIKIANN_LABELS,
    WordTokenizer,
    base_model_identity,
    tags_from_spans,
    word_tokenizer,
)
from entivec.records import Sentence

log = logging.getLogger(__name__)

SENTENCES_PER_LANGUAGE = 2000
BATCH_SIZE = 16
EPOCHS = 1
LEARNING_RATE = 1e-3
SPECIALISE_LEARNING_RATE = 3e-4
RANK = 16
ALPHA = 32
DROPOUT = 0.1
TARGET_MODULES = ["query", "key", "value", "dense"]
SEED = 0
WRITTEN_SHARE = 0.5
LORA_INFO = {"r": RANK, "alpha": ALPHA, "dropout": DROPOUT, "targets": TARGET_MODULES}


def encode_words(
    tokenizer: WordTokenizer,
    sentences: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    labels: Sequence[str],
) -> dict[str, Any]:
    """A training batch: torch tensors of sub-tokens, and labels where the first sub-token
    of each word carries its word's label and the others -100 (ignored by the loss)."""
    import torch

    batch = tokenizer(sentences)
    index = {label: i for i, label in enumerate(labels)}
    rows = []
    for word_ids, sentence_tags in zip(batch.word_ids, tags, strict=True):
        row, previous = [], None
        for word in word_ids:
            row.append(-100 if word is None or word == previous else index[sentence_tags[word]])
            previous = word
        rows.append(row)
    return {
        "input_ids": torch.from_numpy(batch.input_ids),
        "attention_mask": torch.from_numpy(batch.attention_mask),
        "labels": torch.tensor(rows),
    }


def lora_config() -> Any:
    """The PEFT configuration every adapter uses."""
    from peft import LoraConfig, TaskType

    return LoraConfig(
        task_type=TaskType.TOKEN_CLS,
        r=RANK,
        lora_alpha=ALPHA,
        lora_dropout=DROPOUT,
        target_modules=TARGET_MODULES,
        modules_to_save=["classifier"],
    )


def read_training_sentences(
    format: str, paths: Sequence[Path], per_language: int
) -> dict[str, list[Sentence]]:
    """The first ``per_language`` sentences of each language in ``paths``."""
    by_language: dict[str, list[Sentence]] = {}
    for path in paths:
        for sentence in load(format, [Path(path)]):
            bucket = by_language.setdefault(sentence.language, [])
            if len(bucket) < per_language:
                bucket.append(sentence)
    if "" in by_language:
        raise TrainingDataError(
            "some sentences have no language; use paths like .../de/train.conllu"
        )
    for sentences in by_language.values():
        for s in sentences:
            for span in s.spans:
                if f"B-{span.type}" not in WIKIANN_LABELS:
                    raise TrainingDataError(
                        f"sentence {s.id}: entity type {span.type!r} is not one of "
                        f"{', '.join(sorted({t[2:] for t in WIKIANN_LABELS if t != 'O'}))}"
                    )
    return by_language


def train_adapter(
    out: Path,
    name: str,
    sentences: list[Sentence],
    *,
    steps: int,
    start_from: Path | None = None,
    learning_rate: float = LEARNING_RATE,
    written_share: float = WRITTEN_SHARE,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Train adapter ``name`` for ``steps`` optimiser steps and register it under ``out``.

    Args:
        start_from: A (verified) adapter folder whose weights this one starts from;
            a fresh LoRA initialisation otherwise.
        written_share: The chance that a drawn sentence is shown in its written form
            (see the module docstring).

    Returns:
        What the manifest records about it (data, budget, loss, seconds).
    """
    import torch
    from peft import PeftModel, get_peft_model

    from entivec.build.ner.written import as_written_words

    written = [as_written_words(s) if written_share else None for s in sentences]
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    base = load_base(WIKIANN_LABELS)
    tokenizer = word_tokenizer()
    if start_from is None:
        model = get_peft_model(base, lora_config())
    else:
        model = PeftModel.from_pretrained(base, start_from, is_trainable=True)
    model.train()
    optimiser = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=learning_rate
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 1 - s / steps)
    order: list[int] = []
    losses = []
    started = time.perf_counter()
    for _ in tqdm(range(steps), desc=f"lora {name}", disable=show_progress is False):
        if len(order) < BATCH_SIZE:
            fresh = list(range(len(sentences)))
            rng.shuffle(fresh)
            order += fresh
        batch_sentences = [
            form
            if (form := written[i]) is not None and rng.random() < written_share
            else sentences[i]
            for i in order[:BATCH_SIZE]
        ]
        del order[:BATCH_SIZE]
        batch = encode_words(
            tokenizer,
            [s.tokens for s in batch_sentences],
            [tags_from_spans(len(s.tokens), s.spans) for s in batch_sentences],
            WIKIANN_LABELS,
        )
        loss = model(**batch).loss
        loss.backward()
        optimiser.step()
        schedule.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
    seconds = time.perf_counter() - started
    folder = out / name
    shutil.rmtree(folder, ignore_errors=True)
    model.save_pretrained(folder, safe_serialization=True)
    # PEFT writes a README model card; the registry holds only what loading needs
    (folder / "README.md").unlink(missing_ok=True)
    info = {
        "languages": sorted({s.language for s in sentences}),
        "data_sha256": training_digest(sentences),
        "sentences": len(sentences),
        "steps": steps,
        "batch_size": BATCH_SIZE,
        "learning_rate": learning_rate,
        "starts_from": start_from.name if start_from is not None else None,
        "written_share": written_share,
        "lora": LORA_INFO,
        "final_loss": round(sum(losses[-20:]) / max(1, len(losses[-20:])), 4),
        "train_seconds": round(seconds, 1),
    }
    write_entry(out, name, labels=WIKIANN_LABELS, base_model=base_model_identity(), info=info)
    return info


def train_lora(
    format: str,
    paths: Sequence[Path],
    out: Path,
    *,
    per_language: int = SENTENCES_PER_LANGUAGE,
    joint: bool = True,
    from_scratch: bool = False,
    only: Sequence[str] = (),
    written_share: float = WRITTEN_SHARE,
    retrain: bool = False,
    show_progress: bool | None = None,
) -> dict[str, dict[str, Any]]:
    """Train the joint adapter, then one adapter per language in ``paths``, into ``out``.

    Args:
        joint: Train the joint adapter (needs two languages or more).
        from_scratch: Train each language's adapter from a fresh initialisation instead
            of specialising the joint one (see the module docstring).
        only: Train only these adapters (``joint`` is trained anyway when a language
            adapter starts from it and it is missing).
        written_share: The chance a drawn sentence is shown written (0: corpus form only).
        retrain: Train the adapters asked for (every one, or ``only``'s) even when
            ``out`` or the shipped copy holds them trained on the same data and recipe.

    An adapter already in ``out``'s manifest with the same data and recipe is kept, so an
    interrupted run, repeated, trains only what is missing; one that the shipped copy
    holds (:mod:`entivec.build.ner.shipped`) is installed from it rather than trained.
    """
    from entivec.ner.adapters import JOINT, MANIFEST, AdapterRegistry

    by_language = read_training_sentences(format, paths, per_language)
    if len(by_language) < 1:
        raise TrainingDataError("no training sentences")
    steps = EPOCHS * per_language // BATCH_SIZE
    with_joint = joint and len(by_language) > 1
    specialise = with_joint and not from_scratch
    # name -> sentences, steps, learning rate, the adapter it starts from
    plan: dict[str, tuple[list[Sentence], int, float, str | None]] = {}
    if with_joint:
        mixed = [s for sentences in by_language.values() for s in sentences]
        plan[JOINT] = (mixed, steps * len(by_language), LEARNING_RATE, None)
    for lang, sentences in sorted(by_language.items()):
        if specialise:
            plan[lang] = (sentences, steps, SPECIALISE_LEARNING_RATE, JOINT)
        else:
            plan[lang] = (sentences, steps, LEARNING_RATE, None)
    if only:
        needed = set(only) | ({JOINT} if specialise else set())
        plan = {k: v for k, v in plan.items() if k in needed}
    out.mkdir(parents=True, exist_ok=True)
    base_model = base_model_identity()
    done: dict[str, dict[str, Any]] = {}
    for name, (sentences, budget, rate, start) in plan.items():
        wanted = recipe(
            {
                "data_sha256": training_digest(sentences),
                "sentences": len(sentences),
                "steps": budget,
                "batch_size": BATCH_SIZE,
                "learning_rate": rate,
                "starts_from": start,
                "written_share": written_share,
                "lora": LORA_INFO,
            }
        )
        forced = retrain and (not only or name in only)
        existing = AdapterRegistry(out) if (out / MANIFEST).is_file() else None
        if not forced and existing is not None and name in existing.names:
            info = existing.entry(name).info
            if recipe(info) == wanted:
                log.info("adapter %s is trained (%s)", name, out / name)
                done[name] = info
                continue
        shipped = (
            None
            if forced
            else shipped_copy(name, wanted, labels=WIKIANN_LABELS, base_model=base_model)
        )
        if shipped is not None:
            log.info(
                "adapter %s: installed the shipped copy, trained on the same data by the same "
                "recipe (--retrain trains it here)",
                name,
            )
            done[name] = install(shipped, name, out, labels=WIKIANN_LABELS, base_model=base_model)
            continue
        start_folder = None
        if start is not None:
            start_folder = AdapterRegistry(out).verified_folder(start)
        log.info("training adapter %s: %d sentences, %d steps", name, len(sentences), budget)
        done[name] = train_adapter(
            out,
            name,
            sentences,
            steps=budget,
            start_from=start_folder,
            learning_rate=rate,
            written_share=written_share,
            show_progress=show_progress,
        )
    return done
