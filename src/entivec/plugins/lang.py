"""The ``lang`` plugin: a vector that keeps language identity, for routing.

e5 is trained to put translations together, which is what search wants and what routing
does not: on WikiANN the top-5 e5 neighbours of a sentence share its language only 69 %
of the time. This vector is a projection trained on language labels instead.

A sentence becomes hashed character 1-5-grams (across word boundaries, so the space
between two words counts too: 0.9 points better than within-word n-grams on WikiANN)
and word 1-2-grams (scikit-learn's ``HashingVectorizer``: stateless, no vocabulary to
ship), a linear
softmax model trained on labelled sentences scores every language, and the vector is
the centred log-probabilities (the centred log-ratio of the language distribution, so
cosine compares distributions and not their scale), zero-padded to
:data:`LANGUAGE_SLOTS` so one schema fits any router. Routing still selects from the
collection: a query's neighbours are stored sentences whose language distribution looks
like the query's, and their ``language`` payloads vote.

The model is trained by ``entivec train routing`` (see :mod:`entivec.build.lang.train`)
and stored as safetensors plus a manifest; nothing is unpickled.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from entivec.errors import ModelNotPreparedError, ModelPreparationError
from entivec.models import MANIFEST, artefact_dir, artefact_version, verified_manifest
from entivec.registry import EncoderSpec, registers

if TYPE_CHECKING:
    import scipy.sparse as sp


NAME = "lang"
LANGUAGE_SLOTS = 32
WEIGHTS = "model.safetensors"
BUILD_COMMAND = "entivec train routing wikiann ../shared/data/wikiann/*/train.conllu"
HASH_BITS = 18
CHAR_NGRAMS = (1, 5)
WORD_NGRAMS = (1, 2)
# recorded in the manifest: weights trained on other features would be meaningless here
FEATURES = {
    "char_analyzer": "char",
    "char_ngrams": list(CHAR_NGRAMS),
    "word_ngrams": list(WORD_NGRAMS),
}


def featurize(texts: list[str], hash_bits: int = HASH_BITS) -> sp.csr_matrix:
    """Hashed character and word n-gram features, each block L2-normalised."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

    common: dict[str, Any] = {
        "n_features": 2**hash_bits,
        "alternate_sign": False,
        "norm": "l2",
        "lowercase": False,
    }
    chars = HashingVectorizer(analyzer="char", ngram_range=CHAR_NGRAMS, **common)
    words = HashingVectorizer(
        analyzer="word", ngram_range=WORD_NGRAMS, token_pattern=r"(?u)\b\w+\b", **common
    )
    return sp.hstack([chars.transform(texts), words.transform(texts)]).tocsr()


def centred_scores(scores: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Rows of language scores as unit vectors of :data:`LANGUAGE_SLOTS` dimensions."""
    centred = scores - scores.mean(axis=1, keepdims=True)
    out = np.zeros((len(scores), LANGUAGE_SLOTS), dtype=np.float32)
    out[:, : scores.shape[1]] = centred
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    # a text with no known n-gram scores every language the same: a zero vector
    # matches nothing, so it routes nowhere instead of somewhere arbitrary
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


class LanguageVectorEncoder:
    """Language-identity vectors from a trained router artefact.

    Args:
        folder: The artefact directory (``model.safetensors`` and the manifest).
    """

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file

        weights = folder / WEIGHTS
        if not weights.is_file() or not (folder / MANIFEST).is_file():
            raise ModelNotPreparedError(
                f"no language vector in {folder}; train one with `{BUILD_COMMAND}`"
            )
        manifest = verified_manifest(folder, [WEIGHTS], build_command=BUILD_COMMAND)
        self.version = artefact_version(manifest, WEIGHTS)
        if manifest.get("features") != FEATURES:
            raise ModelNotPreparedError(
                f"the language vector in {folder} was trained on other features than this "
                "version computes; retrain it with `entivec train routing wikiann "
                "../shared/data/wikiann/*/train.conllu --force`"
            )
        tensors = load_file(str(weights))
        self.coef = tensors["coef"]
        self.intercept = tensors["intercept"]
        self.languages: tuple[str, ...] = tuple(manifest["languages"])
        self.hash_bits = int(manifest["hash_bits"])
        self.threshold = float(manifest["checks"]["threshold"])
        # (features, languages) in C order once: ``coef.T`` would be copied on every call
        self._coef_t = np.ascontiguousarray(self.coef.T)
        if self.coef.shape != (len(self.languages), 2 * 2**self.hash_bits):
            raise ModelPreparationError(
                f"{weights} holds weights of shape {self.coef.shape}, which do not match "
                f"{len(self.languages)} languages and {self.hash_bits} hash bits in its manifest"
            )

    def scores(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Unnormalised log-probabilities, one column per language in ``self.languages``;
        a text without any n-gram (empty, only spaces) scores 0 everywhere."""
        features = featurize(texts, self.hash_bits)
        # a sparse-dense product by hand: gather the weight rows of each text's n-grams
        # and sum them per text (scipy's product scans the whole weight matrix per call)
        weighted = self._coef_t[features.indices] * features.data[:, None].astype(np.float32)
        counts = np.diff(features.indptr)
        sums = np.zeros((len(texts), self._coef_t.shape[1]), dtype=np.float32)
        rows = np.repeat(np.arange(len(texts)), counts)
        np.add.at(sums, rows, weighted)
        scores = sums + self.intercept
        scores[counts == 0] = 0.0
        return scores

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """One unit vector per text (a zero vector for a text without n-grams)."""
        if not texts:
            return np.empty((0, LANGUAGE_SLOTS), dtype=np.float32)
        return centred_scores(self.scores(texts))

    def embed_passages(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for texts to store (no prefix: the vector sees the text as written)."""
        return self.embed(texts)

    def embed_queries(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """Vectors for texts to route."""
        return self.embed(texts)


def load(variant: str = "fp32") -> LanguageVectorEncoder:
    """The trained language vector from the artefact cache."""
    del variant  # one variant: the model is a single sparse matrix product
    return LanguageVectorEncoder(artefact_dir(NAME))


SPEC = EncoderSpec(
    name=NAME,
    vector="lang",
    size=LANGUAGE_SLOTS,
    distance="cosine",
    embeds="sentence",
    artefact=lambda: artefact_dir(NAME) / WEIGHTS,
    load=load,
    description="language identity (hashed n-grams, trained on language labels), for routing",
    build_command="entivec train routing FORMAT LABELLED_FILES...",
)

register = registers(SPEC)
