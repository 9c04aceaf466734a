"""Small text judgements: substantive or placeholder, keyword matching with light stemming."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from simulator.tracker.postmortem import is_missing, placeholder_marker

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str | None) -> list[str]:
    return _WORD.findall((text or "").lower())


# (suffix, replacement, shortest word it is taken from)
_INFLECTIONS = (("ies", "y", 5), ("ied", "y", 5), ("ing", "", 6), ("ed", "", 5), ("es", "", 5), ("s", "", 4))
_DERIVATIONS = (("ion", 6), ("ment", 7), ("ly", 5))


@lru_cache(maxsize=16384)  # pure, and called for every word of every text judged
def stem(word: str) -> str:
    """A light English stem, the same for a word's forms: 'leaked'/'leak', 'retries'/'retry',
    'released'/'release', 'exhaustion'/'exhausted', 'stopped'/'stop', 'connections'/'connection'.
    Numbers and codes stay as written ('429s' is '429')."""
    w = word.lower().removesuffix("'s").removesuffix("'")
    if not w.isalpha():
        return w[:-1] if w[:-1].isdigit() and w.endswith("s") else w
    for suffix, repl, min_len in _INFLECTIONS:
        if len(w) >= min_len and w.endswith(suffix) and _strippable(w, suffix):
            w = w[: -len(suffix)] + repl
            if suffix in ("ing", "ed") and len(w) > 3 and w[-1] == w[-2] and w[-1] not in "dlsz":
                w = w[:-1]  # stopped -> stop, setting -> set
            break
    for suffix, min_len in _DERIVATIONS:
        if len(w) > min_len and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    if len(w) > 3 and w.endswith("e") and not w.endswith("ee"):
        w = w[:-1]  # release, released, releases -> releas
    return w


def _strippable(w: str, suffix: str) -> bool:
    if suffix == "ed":
        return not w.endswith("eed")  # need, speed, exceed keep their ending
    if suffix == "s":
        return not w.endswith(("ss", "us", "is"))  # process, status, analysis
    if suffix == "ing":
        return any(c in "aeiouy" for c in w[:-3])  # trying, string keep theirs
    return True


def substantive(text: str | None, min_words: int) -> bool:
    """Written and not template placeholder text; at least ``min_words`` words; no TBD/TODO marker."""
    if is_missing(text) or placeholder_marker(text):
        return False
    return len(words(text)) >= min_words


def why_not_substantive(text: str | None, min_words: int) -> str:
    if text is None or not text.strip():
        return "empty"
    if is_missing(text):
        return "only placeholder text"
    if marker := placeholder_marker(text):
        return f"still says {marker}"
    n = len(words(text))
    if n < min_words:
        return f"only {n} word{'s' if n != 1 else ''}"
    return ""


def keyword_found(keyword: str, text: str) -> bool:
    """Every word of ``keyword`` appears (stemmed) in ``text``; numbers and codes match exactly."""
    have = {stem(w) for w in words(text)} | set(words(text))
    wanted = words(keyword)
    if not wanted:
        return False
    return all(w in have or stem(w) in have for w in wanted)


def keywords_found(keywords: Iterable[str], text: str) -> tuple[list[str], list[str]]:
    found, missing = [], []
    for k in keywords:
        (found if keyword_found(k, text) else missing).append(k)
    return found, missing


def mentions_any(text: str, phrases: Iterable[str]) -> str | None:
    lowered = " " + " ".join(words(text)) + " "
    for phrase in phrases:
        p = " ".join(words(phrase))
        if p and f" {p} " in lowered:
            return phrase
    return None
