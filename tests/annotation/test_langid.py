"""The language-ID libraries behind routing's fallback and its peers in eval routing."""

from __future__ import annotations

import pytest

from entivec.annotation.langid import IDENTIFIERS, identifier
from entivec.errors import UnknownPluginError

SIX = ["de", "en", "es", "nl", "pl", "ru"]
CLEAR = {
    "de": "Die Stadt liegt am Rhein und hat eine große Universität.",
    "en": "The city lies on the river and has a large university.",
    "es": "La ciudad está junto al río y tiene una gran universidad.",
    "nl": "De stad ligt aan de rivier en heeft een grote universiteit.",
    "pl": "Miasto leży nad rzeką i ma duży uniwersytet.",
    "ru": "Город стоит на реке, и в нём есть большой университет.",
}


@pytest.mark.parametrize("name", IDENTIFIERS)
def test_each_library_names_clear_sentences_offline(name: str) -> None:
    detector = identifier(name, SIX)
    assert detector.name == name
    assert {lang: detector.identify(text) for lang, text in CLEAR.items()} == {
        lang: lang for lang in CLEAR
    }
    assert detector.identify("") is None


@pytest.mark.parametrize("name", IDENTIFIERS)
def test_answers_stay_within_the_collections_languages(name: str) -> None:
    detector = identifier(name, ["de", "nl"])
    for text in CLEAR.values():
        assert detector.identify(text) in {"de", "nl", None}


def test_an_unknown_library_lists_the_known_ones() -> None:
    with pytest.raises(UnknownPluginError, match="expected one of: lingua, langdetect, fasttext"):
        identifier("cld3", SIX)
