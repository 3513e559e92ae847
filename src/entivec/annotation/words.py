"""Written text into words and punctuation, each with its character offsets.

People write "Paris." and «Berlin»; corpora write "Paris ." The NER adapters read
words, so written text is cut the way the corpora are: a word is a run of letters and
digits that may hold an apostrophe or a hyphen inside ("l'Italia", "Jean-Luc",
"don't"; but "Clinton's" is "Clinton" and "'s", as the corpora cut it), a number may
hold separators ("3.5", "1,000", "12:30", "1805–1876", "1877—1878"), an initialism
keeps its dots ("U.S."), and so does a capitalised abbreviation of up to three letters when the
sentence goes on after it ("St. Mary", "Dr. Müller"; a final "Rom." is a word and a
full stop); a run of one punctuation mark is one token ("...", "''"; brackets stay
single), and every other character that is not a space is a token of its own ("Paris",
"."). Offsets point into the text as written, so ``text[start:end]`` of any word, and
of any span of words, is exactly what the writer wrote.

Chosen over whitespace splitting, HF tokenizers' pre-tokenizers and Moses by
``entivec eval words`` (docs/annotate.md): it recovers the corpus tokens of
detokenised WikiANN and CrossNER, and the boundaries of their entity spans, best.
Scripts without spaces (Chinese, Japanese, Thai) come out as long runs; they are out of
scope, but never an error.
"""

from __future__ import annotations

import regex

WORD = regex.compile(
    r"""
    (?:\p{Lu}\.){2,}                 # initialisms keep their dots: U.S., E.U.
    | \p{Lu}\p{Ll}{0,2}\.(?=\s+\S)    # St. Mary, Dr. Müller: more text follows
    | \d+(?:[.,:/–—]\d+)+            # numbers with separators: 3.5, 1,000, 1805–1876
    | \w+(?:-\w+|['’](?!s\b)\w+)*     # words, with inner hyphens and apostrophes
    | ['’]s\b                         # the English possessive: Clinton 's
    | ([^\w\s\p{Ps}\p{Pe}])\1*         # a run of one mark ("...", "''"), not brackets
    | [^\w\s]                        # any other mark stands alone
    """,
    regex.VERBOSE,
)


def words(text: str) -> list[tuple[str, int, int]]:
    """The words and punctuation of ``text`` with their offsets ``[start, end)``."""
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]
