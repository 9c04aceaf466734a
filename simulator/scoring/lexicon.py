"""The word lists the text judgements (``judge.py``) read: function words, connectives, synonyms, filler.

Data only. Synonym variants are plain English; ``concepts.py`` runs them through the same
tokenizer and stemmer as the text they are compared with, so a variant and its inflections agree.
"""

from __future__ import annotations


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: The glue of a sentence: determiners, pronouns, prepositions, conjunctions, auxiliaries, negators.
#: A text without any of them is a list of keywords, not an explanation.
FUNCTION_WORDS: frozenset[str] = _set("""
a an the this that these those its it their they them there our we us you your he she his her i my me
of to in on at by for with from into onto over under across between through during before after since
until within without about against per via
and or but nor so because as than then when while which who whom whose what where why how if whether
not no never nothing none
all any each every some more most other such only also too very just both either neither
is was were are be been being am has had have having did does do doing done can could would will shall
should may might must
due owing therefore thus hence once whereas thereby
ever even always actually properly correctly fully
""")

#: Auxiliaries and modals: verbs by themselves.
AUXILIARIES: frozenset[str] = _set("""
is was were are be been being am has had have did does do can could would will shall should may might must
""")

#: Irregular verb forms (and their lemma) the stemmer cannot reach.
IRREGULAR_VERBS: dict[str, str] = {
    "ran": "run", "made": "make", "led": "lead", "held": "hold", "kept": "keep", "grew": "grow",
    "grown": "grow", "went": "go", "gone": "go", "broke": "break", "broken": "break", "fell": "fall",
    "drove": "drive", "sent": "send", "took": "take", "taken": "take", "got": "get", "gotten": "get",
    "rose": "rise", "risen": "rise", "began": "begin", "became": "become", "brought": "bring",
    "caught": "catch", "spent": "spend", "ate": "eat", "eaten": "eat", "meant": "mean", "found": "find",
    "gave": "give", "given": "give", "hit": "hit", "set": "set",
}

#: Words whose stem would collide with another word's: "setting" is config, "set" is a verb.
KEPT_WORDS: dict[str, str] = {"setting": "setting", "settings": "setting"}

#: Stems of verbs that state something when inflected with -s (``leaks``, ``caches``, ``exhausts``): with
#: the ``-ed`` forms, the auxiliaries and the irregular forms, what makes a sentence a statement.
VERB_STEMS: frozenset[str] = _set("""
leak exhaust caus trigger fill drain saturat amplify worsen block reject starv kill crash exceed overload
retain return releas evict fail stop throttl deny climb increas consum flood overwhelm answer respond limit
prevent hog spik grow hold keep run lead mak break cach stor introduc add remov send drop miss los us tak
open clos writ read call lack allow ignor skip wait queu hang spin loop restart die panic throw rais report
reach pil slow degrad breach requir need get put push pull creat spawn allocat accumulat collect referenc
lock set cap serv forward rout count handl hit fall com go leav
""")

#: Words and phrases that tie a cause to its effect. ``->``, ``=>`` and ``→`` count too.
CONNECTIVES: tuple[str, ...] = (
    "because", "so", "since", "therefore", "thus", "hence", "which", "when", "after", "then", "once",
    "until", "from", "meaning", "consequently", "causing", "caused", "triggered",
    "triggering", "thereby", "whereupon", "due to", "owing to", "as a result", "led to", "leads to",
    "leading to", "lead to", "resulted in", "results in", "resulting in", "so that", "as soon as",
)
ARROWS: tuple[str, ...] = ("->", "=>", "→", "⇒")

#: Negators: the next content word is denied ("not a connection leak", "the pool was never exhausted").
NEGATORS: frozenset[str] = frozenset({"not", "never", "no", "nothing", "without"})
#: Before a "give it back" verb these make a leak too ("stopped handing back", "failed to close").
STOPPERS: frozenset[str] = frozenset({"stop", "fail"})
#: Stems that, negated, mean a resource is kept: ``leak``.
KEPT_WHEN_NEGATED: frozenset[str] = frozenset({"return", "release", "clos", "evict", "clear", "clean",
                                                "recycl", "expir", "purg", "garbage"})

#: canonical concept (one or more tokens) -> the ways an engineer says it.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "pool": ("pool", "connection pool", "connection", "db connection", "database connection", "db pool",
             "database pool", "sqlalchemy pool", "db session", "database session"),
    "exhaust": ("exhausted", "exhaustion", "run out", "run dry", "dried up", "saturated", "saturation", "full",
                "maxed out", "depleted", "starved", "starvation", "used up", "drained", "none left",
                "all in use", "all checked out", "at capacity"),
    "pool exhaust": ("no free connection", "no connection left", "no connection available",
                     "no spare connection", "no available connection", "out of connection"),
    "leak": ("leak", "leaky", "leaking", "held on to", "hold on to", "hold onto", "hang on to", "kept open",
             "kept hold of", "unreleased", "unreturned", "never came back", "never freed", "not freed"),
    "retry": ("retry", "retried", "retries", "retrying", "re-try", "re-tried", "re-sent", "resent", "resend",
              "re-sending", "re-send", "retransmit", "retransmitted"),
    "config": ("config", "configuration", "configured", "setting", "settings", "limit", "parameter",
               "conf", "cfg"),
    "misconfig": ("misconfigured", "misconfiguration", "misconfig", "wrong config", "bad config",
                  "incorrect config", "broken config", "faulty config", "config typo", "config mistake",
                  "config error", "wrong value", "typo"),
    "memory": ("memory", "heap", "rss", "ram", "resident memory", "resident set", "memory usage",
               "memory footprint"),
    "oom": ("oom", "out of memory", "run out of memory", "oom killed", "oom kill", "oom killer", "oomkilled",
            "killed for memory", "out of memory killer", "memory exhausted", "memory exhaustion"),
    "rollback": ("rollback", "roll back", "rolled back", "revert", "reverted", "back out", "backed out",
                 "downgrade", "downgraded"),
    "ratelimit": ("rate limit", "rate limited", "rate limiting", "rate limiter", "throttle", "throttled",
                  "throttling", "429", "too many requests"),
    "deploy": ("deploy", "deployed", "deployment", "rollout", "rolled out", "ship", "shipped", "go live",
               "went live", "upgrade", "upgraded"),
    "release": ("release", "version", "build"),
    "change": ("change", "changed", "push", "pushed", "update", "updated", "edit", "edited", "modified",
               "tweak", "tweaked"),
    "grow": ("grow", "grew", "growth", "growing", "climb", "climbed", "rise", "rose", "increase", "increased",
             "creep", "crept", "balloon", "ballooned", "swell", "go up", "went up", "kept growing"),
    "low": ("low", "lower", "lowered", "reduce", "reduced", "cut", "decrease", "decreased", "below",
            "too small", "tiny"),
    "reject": ("reject", "rejected", "rejection", "block", "blocked", "deny", "denied", "refuse", "refused",
               "turn away", "turned away"),
    "legitimate": ("legitimate", "legit", "real", "genuine", "valid", "normal", "ordinary"),
    "request": ("request", "req", "call", "api call", "traffic"),
    "customer": ("customer", "client", "tenant", "account", "user"),
    "major": ("major", "largest", "biggest", "top tier", "enterprise", "premium", "key account"),
    "latency": ("latency", "slow", "slowness", "slowdown", "slower", "response time", "p95", "p99", "lag"),
    "timeout": ("timeout", "timed out", "time out", "times out"),
    "kill": ("kill", "killed", "sigkill", "oom reaped"),
    "cache": ("cache", "cached", "caching", "memo", "memoized", "lru"),
    "amplify": ("amplify", "amplified", "worsen", "worsened", "make worse", "made worse", "snowball",
                "snowballed", "compound", "compounded", "multiply", "multiplied", "magnify", "magnified"),
    "immediate": ("immediate", "immediately", "instant", "instantly", "at once", "right away", "straight away",
                  "without backoff", "no backoff", "tight loop"),
    "min": ("min", "mins", "minute", "minutes", "m"),
    "sec": ("s", "sec", "secs", "second", "seconds"),
    "hour": ("h", "hr", "hrs", "hour", "hours"),
    "ms": ("ms", "millisecond", "milliseconds"),
}

#: Whole answers that say nothing ("Not sure really.", "N/A", "see above").
FILLER_PHRASES: tuple[str, ...] = (
    "tbd", "tba", "tbc", "todo", "to do", "n/a", "na", "not applicable", "not sure", "unsure", "unknown",
    "see above", "as above", "same as above", "same", "ditto", "idk", "i don't know", "don't know", "no idea",
    "dunno", "nothing", "none", "nil", "null", "nothing to add", "nothing to report", "no comment",
    "unclear", "whatever", "later", "will update", "will fill in", "fill in later", "pending", "wip",
    "ok", "okay", "fine", "etc", "n a",
)
#: Words that soften without adding anything.
HEDGES: frozenset[str] = _set("""
really yet currently now moment time far honestly basically probably maybe perhaps somehow right well
sure still soon asap etc ok okay yes yeah
""")
#: Stems of vague verbs and nouns: "Looking around.", "We are checking things.", "Investigating the issue."
VAGUE_STEMS: frozenset[str] = _set("""
look around check thing stuff investigat issu problem work team something somewhat situation ongoing
progress updat status monitor watch see review analys analyz continu handl deal fix sort figur try trying
various general overall everything anything matter incident look into dig research follow keep
eye people folk get got going go lot bit help analysis
""")
