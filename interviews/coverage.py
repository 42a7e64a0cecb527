"""Concept coverage: which expected concepts an answer mentions. A hint, never a grade.

Pure (no Django import). A concept counts as mentioned when its name or one of its synonyms
(the catalogue's terms) appears as a whole word or phrase, ignoring case: "NE" matches "the
NE of the model" but not "one", and "ETA" does not match "metadata".

How a term matches:
- Words, with their stems: a word of four or more letters also matches its other forms in
  -s, -es, -ed and -ing ("cache" matches "caching", "shard" "sharded", "embedding"
  "embeddings" and "embed"); shorter words ("ne", "ctr", "bid") match only as written.
- Inside a term, a space matches any run of spaces or hyphens ("cold start" matches
  "cold-start") and a hyphen is optional ("cold-start" matches "cold start" and
  "coldstart"); around a symbol ("label =", "50 %") spaces are optional.
- A cut-off written ``k`` matches any number: "recall@k" matches "Recall@100" and "recall at
  k" matches "recall at 20" (a number written out stays that number: "ndcg@10" does not
  match "ndcg@100").
- A small pattern language for what synonyms cannot list one by one:
  ``{a|b c|d}`` one of the alternatives ("watch time per {user|dau}"), ``#`` any number
  ("watched past #%"), ``...`` up to three words in between ("define ... label").
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

NUMBER = r"\d+(?:[.,]\d+)?"
CUTOFF = rf"(?:k|{NUMBER})"  # what "k" in "recall@k" stands for
GAP = r"(?:[\s-]+\S+){0,3}?"  # "...": up to three words
MIN_STEM_LETTERS = 4


@dataclass(frozen=True)
class ConceptHit:
    name: str
    matched: str | None  # the term found (name or synonym), None when not mentioned
    found: str | None = None  # the answer's own words that matched it

    @property
    def covered(self) -> bool:
        return self.matched is not None


def _stem(word: str) -> tuple[str, bool]:
    """``word`` without an inflection's suffix (-ing, -ed, -es after s, x, z, ch or sh, or
    -s), and whether one was taken off; the stem keeps at least four letters."""
    for suffix in ("ing", "ed", "es", "s"):
        stem = word[: -len(suffix)]
        if not word.endswith(suffix) or len(stem) < MIN_STEM_LETTERS:
            continue
        if suffix == "es" and not stem.endswith(("s", "x", "z", "ch", "sh")):
            continue
        if suffix == "s" and stem.endswith("s"):
            continue
        return stem, True
    return word, False


def _stemmed(word: str) -> str:
    """The regular expression for ``word`` (letters only) and its forms in -s, -es, -ed
    and -ing."""
    if len(word) < MIN_STEM_LETTERS:
        return re.escape(word)
    stem, stripped = _stem(word)
    if stem.endswith("e"):  # cache: caches, cached, caching
        return re.escape(stem[:-1]) + "(?:e|es|ed|ings?)"
    if stem.endswith("y") and stem[-2] not in "aeiou":  # query: queries, queried
        return re.escape(stem[:-1]) + "(?:y|ies|ied|ying)"
    last = stem[-1] if stem[-1] not in "aeiou" else ""
    core = re.escape(stem)
    if stripped and last and stem[-2] == last:
        # The consonant may have been doubled for the suffix (embedding: embed, embeds) or
        # belong to the word (recalled: recall).
        core = re.escape(stem[:-1]) + re.escape(last) + "?"
    # The stem may have lost an e to the suffix (caching: cache), or double its last
    # consonant before one (label: labelled, shard: sharding).
    optional_e = "e|" if stripped else ""
    doubled = re.escape(last) + "?" if last else ""
    return core + f"(?:{optional_e}{doubled}(?:ed|ings?)|e?s)?"


def _piece(piece: str) -> str:
    """One piece of a word (words split at hyphens) as a regular expression."""
    if piece == "#":
        return NUMBER
    if piece.isalpha():
        return _stemmed(piece)
    cutoff = re.fullmatch(r"(.*\w)@k", piece)
    if cutoff:
        return re.escape(cutoff.group(1)) + rf"\s?@\s?{CUTOFF}"
    # "#%", "1%": numbers, then a percent sign that may stand apart ("50 %")
    parts = re.split(r"(#|%)", piece)
    return "".join({"#": NUMBER, "%": r"\s?%", "": ""}.get(part, re.escape(part))
                   for part in parts)


def _word(word: str) -> str:
    if word == "k":
        return CUTOFF
    return r"(?:-|\s)?".join(_piece(piece) for piece in word.split("-"))


def _symbolic(item: str) -> bool:
    """Whether an item may be (or start or end with) a symbol, so that spaces around it are
    optional: "label =", "watch time {per|/} user"."""
    return any(not alternative[:1].isalnum() or not alternative[-1:].isalnum()
               for alternative in _alternatives(item))


def _alternatives(item: str) -> list[str]:
    return item[1:-1].split("|") if item.startswith("{") else [item]


def _items(term: str) -> list[str]:
    """Words, ``{...}`` groups (spaces inside them kept) and ``...`` gaps."""
    return re.findall(r"\{[^{}]*\}|\S+", term)


def _body(term: str) -> str:
    items = [item for item in _items(term) if item]
    parts: list[str] = []
    previous: str | None = None
    for item in items:
        if item == "...":
            parts.append(GAP)
            continue
        if item.startswith("{"):
            regex = "(?:" + "|".join(_body(alternative) for alternative in
                                     _alternatives(item)) + ")"
        else:
            regex = _word(item)
        if previous is not None:
            loose = _symbolic(previous) or _symbolic(item)
            parts.append(r"[\s-]*" if loose else r"[\s-]+")
        parts.append(regex)
        previous = item
    return "".join(parts)


@lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str]:
    """The regular expression that finds ``term`` as a whole word or phrase."""
    body = _body(term.strip().casefold())
    # Whole words: no word character may touch a word character at either end. Look-arounds
    # instead of \b, as terms may start or end with symbols ("p(click)", "a/b", "label =").
    return re.compile(rf"(?:(?<!\w)|(?!\w)){body}(?:(?!\w)|(?<!\w))", re.IGNORECASE)


def find_term(text: str, term: str) -> str | None:
    """The words of ``text`` that mention ``term``, or None."""
    if not term.strip():
        return None
    found = term_pattern(term).search(text)
    return found.group(0) if found else None


def mentions(text: str, term: str) -> bool:
    return find_term(text, term) is not None


def concept_coverage(text: str, concepts: Iterable[tuple[str, Sequence[str]]]
                     ) -> list[ConceptHit]:
    """For each ``(name, synonyms)``, the first of its terms that ``text`` mentions."""
    hits = []
    for name, synonyms in concepts:
        hit = ConceptHit(name=name, matched=None)
        for term in (name, *synonyms):
            found = find_term(text, term)
            if found is not None:
                hit = ConceptHit(name=name, matched=term, found=found)
                break
        hits.append(hit)
    return hits
