"""CrossNER's entity types as queries, and the split of types into trained and held out.

CrossNER labels are run together (``politicalparty``); a query is the type's name in
words. The projection of ``entivec train entity`` never sees the held-out types, so
searching them is zero-shot, as in NER Retriever's evaluation. They were picked to have
at least 35 ``dev`` mentions each and to cover all five CrossNER domains.
"""

from __future__ import annotations

from entivec.errors import InvalidArgumentError

TYPE_NAMES: dict[str, str] = {
    "academicjournal": "academic journal",
    "album": "album",
    "algorithm": "algorithm",
    "astronomicalobject": "astronomical object",
    "award": "award",
    "band": "band",
    "book": "book",
    "chemicalcompound": "chemical compound",
    "chemicalelement": "chemical element",
    "conference": "conference",
    "country": "country",
    "discipline": "scientific discipline",
    "election": "election",
    "enzyme": "enzyme",
    "event": "event",
    "field": "field of research",
    "literarygenre": "literary genre",
    "location": "location",
    "magazine": "magazine",
    "metrics": "evaluation metric",
    "musicalartist": "musical artist",
    "musicalinstrument": "musical instrument",
    "musicgenre": "music genre",
    "organisation": "organisation",
    "person": "person",
    "poem": "poem",
    "politicalparty": "political party",
    "politician": "politician",
    "product": "product",
    "programlang": "programming language",
    "protein": "protein",
    "researcher": "researcher",
    "scientist": "scientist",
    "song": "song",
    "task": "machine learning task",
    "theory": "scientific theory",
    "university": "university",
    "writer": "writer",
    # WikiANN
    "LOC": "location",
    "ORG": "organisation",
    "PER": "person",
}

# ``misc`` is a catch-all, not a type anyone searches for: its mentions are stored and
# serve as negatives, but it is never a query.
NOT_A_QUERY = frozenset({"misc"})

HELD_OUT_TYPES: frozenset[str] = frozenset(
    {
        "politician",
        "band",
        "song",
        "university",
        "chemicalcompound",
        "academicjournal",
        "programlang",
        "magazine",
        "conference",
        "poem",
    }
)


def label_text(label: str) -> str:
    """How a corpus label reads in text, catch-all labels included (``misc`` → ``misc``)."""
    return TYPE_NAMES.get(label, label)


def type_name(label: str) -> str:
    """The query text of a corpus label (``politicalparty`` → ``political party``)."""
    if label in TYPE_NAMES:
        return TYPE_NAMES[label]
    if label in NOT_A_QUERY:
        raise InvalidArgumentError(f"{label!r} is a catch-all label, not a searchable type")
    # user corpora: the label itself
    return label
