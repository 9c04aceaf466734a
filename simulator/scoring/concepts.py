"""Text as concepts: sentences of stemmed, synonym-folded tokens, and phrase matching over them.

``sentences(text)`` turns free text into ``Sentence``s. Each content word becomes a concept: its
stem, folded through the synonym table (``lexicon.SYNONYMS``: "ran dry" and "saturated" are both
``exhaust``; "out-of-memory" is ``oom``), with a negated "give back" verb read as a leak ("never
returns its connection"). ``Phrase(text).found_in(sentence)`` holds when every concept of the phrase
occurs in the sentence within a short window, in any order. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from simulator.scoring import lexicon
from simulator.scoring.text import stem

_TOKEN = re.compile(r"(?P<ver>v?\d+(?:\.\d+){1,3}\b)|(?P<word>[a-z0-9]+(?:'[a-z]+)?)|(?P<punct>[^\sa-z0-9])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_CONTRACTION = re.compile(r"n['’]t\b")
_SEPARATORS = re.compile(r"[-_/–—]")
_CODE_PLURAL = re.compile(r"\b([1-5]\d\d)s\b")
_NUMBER_UNIT = re.compile(r"\b(\d+(?:\.\d+)?)(ms|s|sec|secs|m|min|mins|h|hr|hrs|d|x|[kmg]i?b|rps)\b")
_BACK = re.compile(r"\b(?P<verb>hand|hands|handed|handing|give|gives|gave|giving|given|put|puts|putting|"
                   r"roll|rolls|rolled|rolling)\b(?P<gap>(?:\s+[\w.']+){0,3}?)\s+back\b")
_ARROWS = re.compile("|".join(re.escape(a) for a in lexicon.ARROWS))
_DENIED = "not:"
#: How many extra tokens a phrase's concepts may be spread over beyond the phrase's own length.
SLACK = 3


@dataclass(frozen=True)
class Token:
    """A content word: its concepts, the word as written, and its glue-free run (for stuffing).
    A denied word ("not a *leak*") asserts ``not:leak``, but still mentions ``leak``."""

    concepts: frozenset[str]
    mentioned: frozenset[str]
    word: str
    run: int

    def has(self, wanted: set[str], mentions: bool) -> set[str]:
        return (self.mentioned if mentions else self.concepts) & wanted


@dataclass(frozen=True)
class Sentence:
    text: str
    words: tuple[str, ...]  # every word as written (lowercase)
    tokens: tuple[Token, ...]  # the content words as concepts
    glue: int  # function words
    verbs: int  # finite verb forms
    connectives: int  # because/so/led to/... and arrows

    @property
    def connective(self) -> bool:
        return self.connectives > 0

    @property
    def relations(self) -> int:
        """Verbs and connectives: what ties one named thing to another."""
        return self.verbs + self.connectives

    @property
    def structured(self) -> bool:
        """States something: has a connective or a verb."""
        return self.relations > 0


def _unglue(text: str) -> str:
    """Lowercase, contractions spelled out, hyphens and underscores as spaces, '<n> <unit>' apart."""
    t = text.lower().replace("’", "'")
    t = _CONTRACTION.sub(" not", t)
    t = _CODE_PLURAL.sub(r"\1", t)
    t = _SEPARATORS.sub(" ", t)
    t = _NUMBER_UNIT.sub(r"\1 \2", t)
    return _BACK.sub(lambda m: ("rollback" if m.group("verb").startswith("roll") else "return")
                     + m.group("gap"), t)


@dataclass(frozen=True)
class _Item:
    key: str
    kind: str  # "word" (content), "denied" (content after a negator), "glue", "punct"
    word: str = ""


def _items(text: str) -> list[_Item]:
    out: list[_Item] = []
    for m in _TOKEN.finditer(_unglue(text)):
        if m.group("ver"):
            out.append(_Item(m.group("ver").removeprefix("v"), "word", m.group("ver")))
        elif m.group("punct"):
            out.append(_Item(m.group("punct"), "punct"))
        else:
            word = m.group("word").removesuffix("'s")
            if word in lexicon.FUNCTION_WORDS:
                out.append(_Item(word, "glue", word))
            else:
                key = lexicon.KEPT_WORDS.get(word) or stem(lexicon.IRREGULAR_VERBS.get(word, word))
                out.append(_Item(key, "word", word))
    return out


def _fold(items: list[_Item], table: dict[tuple[str, ...], str], longest: int,
          whole: bool = True) -> list[_Item]:
    """Replace synonym variants (longest first) by their canonical concepts."""
    out: list[_Item] = []
    i = 0
    while i < len(items):
        if items[i].kind == "punct":
            out.append(items[i])
            i += 1
            continue
        for n in range(min(longest, len(items) - i), 0, -1):
            if not whole and n == len(items):
                continue
            span = items[i:i + n]
            canon = table.get(tuple(x.key for x in span))
            if canon is not None and all(x.kind != "punct" for x in span):
                word = " ".join(x.word for x in span)
                out.extend(_Item(c, "word", word) for c in canon.split())
                i += n
                break
        else:
            out.append(items[i])
            i += 1
    return out


@cache
def _table() -> tuple[dict[tuple[str, ...], str], int]:
    table: dict[tuple[str, ...], str] = {}
    variants: list[tuple[list[_Item], str]] = []
    for canon, forms in lexicon.SYNONYMS.items():
        for form in (canon.replace(" ", "-") if " " in canon else canon, *forms):
            items = [x for x in _items(form) if x.kind != "punct"]
            variants.append((items, canon))
            table.setdefault(tuple(x.key for x in items), canon)
    longest = max(len(k) for k in table)
    for items, canon in variants:  # "no free connection" also as "no free <pool>"
        folded = _fold(items, table, longest, whole=False)
        table.setdefault(tuple(x.key for x in folded), canon)
    return table, longest


def _negate(items: list[_Item]) -> list[_Item]:
    """'never returns', 'not released', 'stopped handing back' -> leak; otherwise a negator denies the
    words right after it: 'not a connection leak' holds ``not:pool not:leak``, never ``pool leak``."""
    out = list(items)
    for i, item in enumerate(out):
        if item.key not in lexicon.NEGATORS and item.key not in lexicon.STOPPERS:
            continue
        j = i + 1
        while j < min(i + 4, len(out)) and out[j].kind == "glue":
            j += 1
        if j >= len(out) or out[j].kind != "word":
            continue
        if out[j].key in lexicon.KEPT_WHEN_NEGATED:
            out[j] = _Item("leak", "word", out[j].word)
        elif item.key in lexicon.NEGATORS:
            while j < len(out) and out[j].kind == "word":
                out[j] = _Item(out[j].key, "denied", out[j].word)
                j += 1
    return out


def _concepts(items: list[_Item]) -> list[_Item]:
    table, longest = _table()
    folded = _fold(items, table, longest)
    for _ in range(3):  # a folded concept can complete a longer variant: "no free" + <pool>
        again = _fold(folded, table, longest)
        if [x.key for x in again] == [x.key for x in folded]:
            break
        folded = again
    return _negate(folded)


def _extra(key: str) -> frozenset[str]:
    if re.fullmatch(r"[1-5]\d\d", key):
        return frozenset({key, key[0] + "xx"})
    return frozenset({key})


def _is_verb(word: str) -> bool:
    if word in lexicon.AUXILIARIES or word in lexicon.IRREGULAR_VERBS:
        return True
    if len(word) >= 5 and word.endswith("ed") and not word.endswith("eed"):
        return True
    return word.endswith("s") and len(word) > 3 and stem(word) in lexicon.VERB_STEMS


def _connectives(words: Sequence[str], text: str) -> int:
    joined = f" {' '.join(words)} "
    return len(_ARROWS.findall(text)) + sum(joined.count(f" {c} ") for c in lexicon.CONNECTIVES
                                            if not _is_verb(c.split()[0]))  # "caused" is counted as a verb


@lru_cache(maxsize=8192)  # a write-up's sentences are judged by many checks; a Sentence is immutable
def sentence(text: str) -> Sentence:
    items = _items(text)
    words = tuple(x.word for x in items if x.kind != "punct" and x.word)
    glue = sum(1 for x in items if x.kind == "glue")
    tokens: list[Token] = []
    run = 0
    for item in _concepts(items):
        if item.kind not in ("word", "denied"):
            run += 1
            continue
        said = _extra(item.key)
        tokens.append(Token(frozenset({_DENIED + item.key}) if item.kind == "denied" else said, said, item.word, run))
    verbs = sum(1 for w in words if _is_verb(w))
    return Sentence(text.strip(), words, tuple(tokens), glue, verbs, _connectives(words, text))


def sentences(text: str | None) -> list[Sentence]:
    return [sentence(part) for part in _SENTENCE_END.split(text or "") if part.strip()]


@dataclass(frozen=True)
class Match:
    start: int
    end: int  # inclusive token indexes

    def runs(self, s: Sentence) -> set[int]:
        return {t.run for t in s.tokens[self.start:self.end + 1]}


@lru_cache(maxsize=4096)  # the rubrics' phrases, built again for every write-up judged
def _phrase_concepts(text: str) -> tuple[str, ...]:
    keys: list[str] = []
    for item in _concepts(_items(text)):
        key = _DENIED + item.key if item.kind == "denied" else item.key
        if item.kind in ("word", "denied") and key not in keys:
            keys.append(key)
    return tuple(keys)


class Phrase:
    """A phrasing to look for: its concepts, matched in any order within a short window."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.concepts: tuple[str, ...] = _phrase_concepts(text)

    def __repr__(self) -> str:
        return f"Phrase({self.text!r} -> {' '.join(self.concepts)})"

    def found_in(self, s: Sentence, mentions: bool = False) -> Match | None:
        """Where the sentence says this; with ``mentions``, a denied word counts ("no 5xx" names 5xx)."""
        if not self.concepts:
            return None
        wanted = set(self.concepts)
        width = len(wanted) + SLACK
        toks = s.tokens
        for i, tok in enumerate(toks):
            if not tok.has(wanted, mentions):
                continue
            seen: set[str] = set()
            for j in range(i, min(i + width, len(toks))):
                seen |= toks[j].has(wanted, mentions)
                if seen == wanted:
                    return Match(i, j)
        return None


def first_found(phrases: Iterable[Phrase], s: Sentence) -> tuple[Phrase, Match] | None:
    for p in phrases:
        if (m := p.found_in(s)) is not None:
            return p, m
    return None
