"""The text judgements of the score card. Pure functions over strings; no I/O.

* ``filler(text, facts)``: why a text is filler (placeholder, "Not sure", "Looking around.", lorem
  ipsum, the same sentence pasted again, nothing from this incident), or None for real content;
* ``root_cause(text, chain)``: how much of the truth's causal chain the text explains, link by link,
  with stems and synonyms (``concepts.py``), and only in sentences that state a cause;
* ``refers_to_incident(text, facts)``: the concrete facts of this incident a text names;
* ``keyword_list(text)``: a bare list of keywords, not an explanation.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Protocol

from simulator.domain.ops_action import OpsAction
from simulator.errors import InputError
from simulator.scoring import lexicon
from simulator.scoring.concepts import Phrase, Sentence, first_found, sentence, sentences
from simulator.scoring.text import stem, why_not_substantive, words

_LOREM = re.compile(r"\blorem\b|\bipsum\b|\bdolor sit amet\b|\bconsectetur adipiscing\b")
_LIST_SPLIT = re.compile(r"[,;\n|•]+")
_STATUS_CODES = re.compile(r"\b([1-5]\d\d)s\b")  # "503s" are responses, not seconds
_CLOCK = re.compile(r"\b(\d{1,2}):(\d\d)\b")
_NUMBER_WITH_UNIT = re.compile(
    r"\b\d+(?:\.\d+)?(?:\s?%|\s?/s\b|\s?(?:percent|x|ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?"
    r"|hours?|d|days?|weeks?|[kmg]i?b|bytes?|rps|qps|req(?:uests?)?(?:/s| per second)?|connections?"
    r"|errors?|users?|customers?|retries|attempts?|workers?|replicas?|instances?|restarts?)\b)")
_FILLER: dict[tuple[str, ...], str] = {}
for _phrase in sorted(lexicon.FILLER_PHRASES, key=lambda p: -len(words(p))):
    _FILLER.setdefault(tuple(words(_phrase)), _phrase)
#: A sentence whose glue-free run of words names this many links is keyword stuffing.
STUFFED_LINKS = 3


@dataclass(frozen=True)
class IncidentFacts:
    """What a text about this incident can name. Lists are accepted and kept as tuples.

    ``services``: the services affected and the target names; ``alerts``: the alert names that fired;
    ``symptoms``: the fault's observable symptoms ("5xx", "429", "latency", "pool", "memory", "OOM");
    ``actions``: the ops actions taken ("rollback:payments" or "rollback payments"); ``metrics``: metric
    names ("gauges.db_pool_waiters"); ``times``: clock times ("14:05") and durations ("45 min").
    """

    services: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    symptoms: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    times: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, tuple(str(v) for v in getattr(self, f.name)))


@dataclass(frozen=True)
class RootCauseVerdict:
    fraction: float  # share of the chain's links explained, 0..1
    matched_links: tuple[str, ...]
    missing_links: tuple[str, ...]
    reason: str


class ChainLink(Protocol):
    """One link of a causal chain (``simulator.scenario.model.CausalLink`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def phrases(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class _Link:
    name: str
    phrases: tuple[Phrase, ...]


def _links(chain: Sequence[ChainLink | Sequence[str] | str]) -> list[_Link]:
    out = []
    for number, link in enumerate(chain, start=1):
        if isinstance(link, str):
            name, phrases = link, [link]
        elif hasattr(link, "phrases"):
            name, phrases = link.name, list(link.phrases)
        else:
            phrases = list(link)
            name = phrases[0] if phrases else f"link {number}"
        out.append(_Link(name, tuple(Phrase(p) for p in phrases)))
    return out


# --- keyword lists --------------------------------------------------------------------------------------


def keyword_list(text: str | None) -> bool:
    """A list of keywords rather than an explanation: no function words ("the", "of", "was"), or list
    items with neither glue nor verb ("leak, pool, retry"), or a long run of nouns with one stray
    article and no verb or connective. Empty text is not a keyword list (it is empty)."""
    parts = sentences(text)
    n = sum(len(s.words) for s in parts)
    if n == 0:
        return False
    if _list_shaped(text or ""):
        return True
    glue = sum(s.glue for s in parts)
    connective = any(s.connective for s in parts)
    if glue == 0 and not connective:
        return True
    return glue * 10 < n and not connective and all(s.verbs == 0 for s in parts)


def _list_shaped(text: str) -> bool:
    items = [sentence(x) for x in _LIST_SPLIT.split(text) if x.strip()]
    return len(items) >= 2 and all(0 < len(s.words) <= 4 and s.glue == 0 and s.verbs == 0 and not s.connective
                                   for s in items)


# --- root cause -----------------------------------------------------------------------------------------


def root_cause(text: str | None, chain: Sequence[ChainLink | Sequence[str] | str]) -> RootCauseVerdict:
    """Match ``text`` against the causal chain link by link. A link counts when one of its phrasings
    (stems, synonyms, any order within a few words) occurs in a sentence that states a cause (a
    connective or a verb) and is not itself a keyword list or a run of stuffed keywords."""
    links = _links(chain)
    names = tuple(link.name for link in links)
    if not links:
        return RootCauseVerdict(0.0, (), (), "no causal chain to compare with")
    if why := why_not_substantive(text, 0):
        return RootCauseVerdict(0.0, (), names, f"the root cause is {why}")
    if keyword_list(text):
        return RootCauseVerdict(0.0, (), names, "a list of keywords, not an explanation")
    explained: set[str] = set()
    unexplained: set[str] = set()
    stuffed = False
    for s in sentences(text):
        hits = _hits(links, s)
        if not hits:
            continue
        if not s.structured or keyword_list(s.text):
            unexplained |= set(hits)
        elif _stuffed(hits, s):
            stuffed = True
            unexplained |= set(hits)
        else:
            explained |= set(hits)
    matched = tuple(n for n in names if n in explained)
    missing = tuple(n for n in names if n not in explained)
    return RootCauseVerdict(len(matched) / len(links), matched, missing,
                            _reason(matched, missing, unexplained - explained, stuffed))


def _hits(links: Iterable[_Link], s: Sentence) -> dict[str, set[int]]:
    """Link name -> the glue-free runs of words its phrasing sits in."""
    hits = {}
    for link in links:
        found = first_found(link.phrases, s)
        if found is not None:
            hits[link.name] = found[1].runs(s)
    return hits


def _stuffed(hits: dict[str, set[int]], s: Sentence) -> bool:
    """Links piled up rather than explained: several in one run of words with no glue between them
    ("leak pool retry release"), or more links than two per verb or connective ("leak and pool and
    retry and release caused it")."""
    per_run = Counter(next(iter(runs)) for runs in hits.values() if len(runs) == 1)
    if any(count >= STUFFED_LINKS for count in per_run.values()):
        return True
    return len(hits) >= STUFFED_LINKS and s.relations * 2 < len(hits)


def _reason(matched: Sequence[str], missing: Sequence[str], unexplained: set[str], stuffed: bool) -> str:
    total = len(matched) + len(missing)
    if not missing:
        return f"explains every link of the causal chain ({', '.join(matched)})"
    parts = [f"{len(matched)}/{total} links of the causal chain explained"
             + (f" ({', '.join(matched)})" if matched else "")]
    parts.append(f"missing: {', '.join(missing)}")
    if stuffed:
        parts.append("keyword stuffing does not count")
    elif unexplained:
        parts.append(f"named but not explained in a sentence: {', '.join(n for n in missing if n in unexplained)}")
    return "; ".join(parts)


# --- facts of this incident -----------------------------------------------------------------------------


def refers_to_incident(text: str | None, facts: IncidentFacts) -> list[str]:
    """The concrete facts of this incident ``text`` mentions (as ``facts`` spells them), then any
    other figure with a unit it gives ("45 min", "8 connections", "2 req/s")."""
    parts = sentences(text)
    low = (text or "").lower()
    found: list[str] = []

    def note(label: str, hit: bool) -> None:
        if hit and label not in found:
            found.append(label)

    for service in facts.services:
        note(service, _service_named(service, parts))
    for alert in facts.alerts:
        note(alert, _word_in(alert, low) or _said(_camel_words(alert), parts))
    for symptom in facts.symptoms:
        note(symptom, _said(symptom, parts))
    for action in facts.actions:
        note(action, any(_said(p, parts) for p in action_phrases(action)))
    for metric in facts.metrics:
        note(metric, _word_in(metric, low) or _said(metric.split(".")[-1], parts))
    clocks = {_clock(m.group(1), m.group(2)) for m in _CLOCK.finditer(low)}
    durations = set()
    for when in facts.times:
        m = _CLOCK.fullmatch(when.strip())
        if m:
            note(when, _clock(m.group(1), m.group(2)) in clocks)
        elif _said(when, parts):
            note(when, True)
            durations.add(Phrase(when).concepts)
    for m in _NUMBER_WITH_UNIT.finditer(_STATUS_CODES.sub(r"\1", low)):
        figure = " ".join(m.group(0).split())
        note(figure, Phrase(figure).concepts not in durations)
    return found


def action_phrases(action: str) -> list[str]:
    """How a text may name an ops action: ``rollback:payments`` -> "rollback payments";
    ``flag:payments.fallback_processor=on`` -> "fallback processor"; ``deploy:payments=v2.3.1`` ->
    "deploy payments" or "v2.3.1". Free text ("rollback payments") is taken as it is."""
    try:
        a = OpsAction.parse(action)
    except InputError:
        return [action]
    key_words = (a.key or "").split(".")[-1]
    if a.verb == "flag" and a.key:
        return [key_words]
    if a.verb == "config":
        return [f"config {a.target}"] + ([key_words] if a.key else [])
    if a.verb == "scale" and a.key:
        return [key_words]
    return [f"{a.verb} {a.target}"] + ([a.value] if a.verb == "deploy" and a.value else [])


def _said(phrase: str, parts: Sequence[Sentence]) -> bool:
    p = Phrase(phrase)
    return any(p.found_in(s, mentions=True) for s in parts)


def _service_named(service: str, parts: Sequence[Sentence]) -> bool:
    name = words(service)
    if len(name) != 1:
        return _said(service, parts)
    root = stem(name[0])
    return len(root) >= 3 and any(w.startswith(root) for s in parts for w in s.words)


def _word_in(name: str, low: str) -> bool:
    return bool(re.search(rf"(?<![\w.]){re.escape(name.lower())}(?![\w])", low))


def _camel_words(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name).replace("_", " ")


def _clock(hours: str, minutes: str) -> str:
    return f"{int(hours)}:{minutes}"


# --- filler ---------------------------------------------------------------------------------------------


def filler(text: str | None, facts: IncidentFacts) -> str | None:
    """Why ``text`` is filler rather than content about this incident; None when it is real content."""
    if why := vacuous(text):
        return why
    if not refers_to_incident(text, facts):
        return "names nothing from this incident (no service, alert, symptom, action, metric, time or figure)"
    return None


def vacuous(text: str | None) -> str | None:
    """Why ``text`` says nothing at all (empty, placeholder, lorem ipsum, repetition, only filler or vague
    words), whatever the incident; None when it has words of substance."""
    if why := why_not_substantive(text, 0):
        return why
    assert text is not None
    if _LOREM.search(text.lower()):
        return "lorem ipsum placeholder text"
    if why := _repeated(text):
        return why
    phrase, rest = _without_filler(words(text))
    if not rest:
        if phrase:
            return f"says only {phrase!r}"
        return f"only vague words, nothing concrete ({_short(text)})"
    return None


def _repeated(text: str) -> str | None:
    said = [" ".join(words(s.text)) for s in sentences(text)]
    said = [s for s in said if s]
    if len(said) >= 2:
        (_, count), = Counter(said).most_common(1)
        if count * 2 >= len(said) and count >= 2:
            return f"the same sentence {count} times"
    ws = words(text)
    n = len(ws)
    for period in range(1, n // 2 + 1):
        if all(ws[i] == ws[i + period] for i in range(n - period)):
            return "the same words over and over"
    content = [stem(w) for w in ws if w not in lexicon.FUNCTION_WORDS]
    if len(content) >= 4:
        (_, top), = Counter(content).most_common(1)
        if top * 2 > len(content):
            return "the same word over and over"
    return None


def _without_filler(ws: list[str]) -> tuple[str | None, list[str]]:
    """The first filler phrase found, and the words that are neither filler, glue, hedge nor vague."""
    first: str | None = None
    kept: list[str] = []
    i = 0
    while i < len(ws):
        for phrase, spelled in _FILLER.items():
            if tuple(ws[i:i + len(phrase)]) == phrase:
                first = first or spelled
                i += len(phrase)
                break
        else:
            w = ws[i]
            if not (w in lexicon.FUNCTION_WORDS or w in lexicon.HEDGES or w in lexicon.VAGUE_STEMS
                    or stem(w) in lexicon.VAGUE_STEMS):
                kept.append(w)
            i += 1
    return first, kept


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= 40 else flat[:39] + "…")


# --- a decision that names what was expected -------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    """What ``mentioned`` found: the phrase a sentence asserts, or None and why nothing counts."""

    phrase: str | None
    reason: str


def mentioned(text: str | None, phrases: Sequence[str], vocabulary: Sequence[Sequence[str]] = ()) -> Mention:
    """Which of ``phrases`` ``text`` asserts, word by word through the concepts (stems, synonyms; numbers
    as numbers: "72" is said by "72 hours" and "72h", never by "172" or "7200"; "legal" is not "illegal").

    A phrase counts only in a sentence that asserts it: not denied ("do not notify legal" does not
    notify legal), not pasted keywords (a sentence that is a keyword list with no word of its own, or
    fewer than half as many as keywords, beyond the ``vocabulary`` -- every phrase a text may be judged
    on -- and filler), and not
    stuffed (a sentence piling up ``STUFFED_LINKS`` groups of the vocabulary with too few verbs or
    connectives to tie them, as ``root_cause`` judges a chain). Empty text, lorem ipsum and repetition
    count for nothing."""
    wanted = [Phrase(p) for p in phrases if p.strip()]
    none = Mention(None, "names none of: " + ", ".join(p.text for p in wanted[:6]))
    if why := why_not_substantive(text, 0):
        return Mention(None, why)
    assert text is not None
    said = [s for s in sentences(text) if any(p.found_in(s, mentions=True) for p in wanted)]
    if _LOREM.search(text.lower()):
        return Mention(None, "lorem ipsum placeholder text") if said else none
    if why := _repeated(text):
        return Mention(None, why) if said else none
    groups = [_Link(str(i), tuple(Phrase(p) for p in group if p.strip())) for i, group in enumerate(vocabulary)]
    known = {c for link in groups for p in link.phrases for c in p.concepts} | {c for p in wanted for c in p.concepts}
    denied: str | None = None
    pasted = stuffed = False
    for s in said:
        found = first_found(wanted, s)
        if found is None:
            denied = denied or next((p.text for p in wanted if p.found_in(s, mentions=True)), None)
            continue
        if _pasted(s, known):
            pasted = True
        elif _stuffed(_spots(groups, s), s):
            stuffed = True
        else:
            return Mention(found[0].text, f"says '{found[0].text}'")
    if pasted:
        return Mention(None, "only in a pasted list of keywords")
    if stuffed:
        return Mention(None, "only in a sentence stuffed with keywords")
    if denied is not None:
        return Mention(None, f"'{denied}' only denied")
    return none


def _spots(groups: Iterable[_Link], s: Sentence) -> dict[tuple[int, int], set[int]]:
    """Where groups of the vocabulary are said in the sentence -> the runs of words there; groups said
    by the same words count once."""
    spots = {}
    for link in groups:
        found = first_found(link.phrases, s)
        if found is not None:
            spots[(found[1].start, found[1].end)] = found[1].runs(s)
    return spots


def _pasted(s: Sentence, known: set[str]) -> bool:
    if not keyword_list(s.text):
        return False
    _, kept = _without_filler(list(s.words))
    own = [t for t in s.tokens if t.word in kept and not (t.mentioned & known)]
    keywords = [t for t in s.tokens if t.mentioned & known]
    return not own or len(own) * 2 < len(keywords)
