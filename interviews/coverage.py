"""Concept coverage: which expected concepts an answer mentions. A hint, never a grade.

Pure (no Django import). A concept counts as mentioned when its name or one of its synonyms
appears as a whole word or phrase, ignoring case: "NE" matches "the NE of the model" but not
"one", and "ETA" does not match "metadata". Inside a term, a space matches any run of spaces
or hyphens ("cold start" matches "cold-start") and a hyphen is optional ("cold-start" matches
"cold start" and "coldstart"); a term of four or more characters ending in a letter also
matches its plural in -s or -es.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ConceptHit:
    name: str
    matched: str | None  # the term found (name or synonym), None when not mentioned

    @property
    def covered(self) -> bool:
        return self.matched is not None


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    """The regular expression that finds ``term`` as a whole word or phrase."""
    words = term.strip().casefold().split()
    parts = []
    for word in words:
        pieces = [re.escape(piece) for piece in word.split("-")]
        parts.append(r"(?:-|\s)?".join(pieces))
    body = r"[\s-]+".join(parts)
    if len(term.strip()) >= 4 and term.strip()[-1].isalpha():
        body += r"(?:e?s)?"
    # Look-arounds instead of \b: terms may start or end with symbols ("p(click)", "a/b").
    return re.compile(rf"(?<![\w]){body}(?![\w])", re.IGNORECASE)


def mentions(text: str, term: str) -> bool:
    if not term.strip():
        return False
    return term_pattern(term).search(text) is not None


def concept_coverage(text: str, concepts: Iterable[tuple[str, Sequence[str]]]
                     ) -> list[ConceptHit]:
    """For each ``(name, synonyms)``, the first of its terms that ``text`` mentions."""
    hits = []
    for name, synonyms in concepts:
        matched = next((term for term in (name, *synonyms) if mentions(text, term)), None)
        hits.append(ConceptHit(name=name, matched=matched))
    return hits
