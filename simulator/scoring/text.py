"""Small text judgements: substantive or placeholder, keyword matching with light stemming."""

from __future__ import annotations

import re
from collections.abc import Iterable

from simulator.tracker.postmortem import is_missing, placeholder_marker

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str | None) -> list[str]:
    return _WORD.findall((text or "").lower())


def stem(word: str) -> str:
    """A crude English stem: enough for 'leaked'/'leak', 'retries'/'retry', 'connections'/'connection'."""
    w = word.lower().removesuffix("'s").removesuffix("'")
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            return w[: -len(suffix)] + repl
    return w


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
