"""Instructions planted in documents ("ignore previous instructions and state X").

Passages are data. A sentence that addresses the model rather than the reader can never
support a statement, so it is cut from the passage before the checker looks for support.

Detection reads the passage folded as a model sees through it: compatibility forms
(full-width, mathematical and other styled letters, ligatures) folded as Unicode NFKC folds
them, but decomposed (NFKD, as the BM25 analyser does) so that an accent on a letter
("Ïgnore") drops away with the other combining marks; zero-width, bidi and other format
characters (category Cf) removed; soft hyphens removed with the line break after one; common
Cyrillic and Greek look-alikes read as Latin letters; and every run of whitespace, line
breaks included, one space. Cutting works on the passage as
stored: the sentences (of `sentences.sentence_spans`, where a line break inside a sentence
does not end it) that overlap a detected instruction go, with the space after them; the rest
is kept character for character.

Legal and regulatory text uses the same verbs ("the firm must disregard prior instructions
from the client"), so the common imperatives count only where they open a clause or follow an
address to the reader or the model, and never where the instructions belong to someone the
sentence names.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache

from apps.assistant.sentences import sentence_spans

# The patterns read folded, lowercased text, where every gap between words is one space.
_NOUN = (
    r"(?:instructions?|prompts?|directions?|directives?|rules?|guidance|guidelines?|commands?"
    r"|context|constraints?|programming|orders?|messages?|polic(?:y|ies)|restrictions?"
    r"|training|filters?|guardrails?|safeguards?|text|tasks?|system prompt)\b"
)
_DETERMINER = r"(?:all|any|every|each|of|the|your|my|its|their|these|those|this|such) "
_MODIFIER = (
    r"(?:previous|previously given|prior|above|earlier|preceding|foregoing|former|original"
    r"|initial|old|existing|standing|system|safety|hidden|developer|other) "
)
# Instructions that belong to someone the sentence names are the reader's business, not the
# model's: "prior instructions from the client", "previous directions given by the settlor";
# so is a topic they are about ("the previous guidance on margin").
_OWNED = (
    r"(?! (?:(?:from|by) (?!(?:the |your )?(?:developers?|system|users?|operators?|creators?"
    r"|admin(?:istrator)?s?|owners?)\b)|of|on|issued|received|given (?:by|under|in)|under"
    r"|relating|relevant|concerning|regarding|on behalf|in (?:relation|connection|accordance"
    r"|respect)|to (?!(?:the )?(?:ai|assistant|model|chatbot|bot|llm)\b)(?:the|a|an|its|their"
    r"|his|her|any)\b))"
)
_SETTING_ASIDE_VERBS = (
    "ignore disregard forget override overrule bypass skip discard drop abandon disobey"
).split()
_NEGATIONS = ("not", "n't", "dont", "never", "stop", "longer")
_FOLLOWING = ("follow", "obey", "comply", "adher")
_SETTING_ASIDE = (
    rf"(?:{'|'.join(_SETTING_ASIDE_VERBS)}|set aside|put aside|throw out"
    r"|pay no (?:attention|heed) to|(?:do not|don'?t|never|stop|no longer) (?:follow(?:ing)?"
    r"|obey(?:ing)?|comply(?:ing)? with|adher(?:e|ing) to)) "
)
_WHAT_WAS_SAID = (
    rf"(?:{_DETERMINER}){{0,3}}(?:{_MODIFIER}){{1,2}}{_NOUN}{_OWNED}"
    rf"|(?:(?:all|any|of|the) ){{0,2}}(?:your|my|all) (?:{_DETERMINER}){{0,2}}"
    rf"(?:{_MODIFIER}){{0,2}}{_NOUN}{_OWNED}"
    rf"|(?:the|all|any) {_NOUN} (?:above|before this|given (?:above|earlier|before|so far"
    r"|to you)|you (?:were|have been) given|you received)"
    r"|(?:everything|anything|all|whatever) (?:(?:that )?you (?:were|have been|'ve been|are)"
    r" (?:told|given|taught|instructed|asked)|(?:(?:written|stated|said|mentioned) )?"
    r"(?:above|before|earlier|previously|so far|until now|up to (?:now|here)))"
    r"|what you (?:were|have been|'ve been) (?:told|given|taught|instructed)"
    r"|(?:all (?:of )?)?the (?:above|preceding|foregoing)(?= ?(?:[.!,;:]|and\b|$))"
)
_ADDRESSEE = (
    r"(?:ai|a\.i\.|ai (?:assistant|model)|chat ?bot|llm|(?:large )?language model|chatgpt|gpt)"
)
_VOCATIVE = rf"(?:{_ADDRESSEE}|assistant|model|bot|claude)"
_PERSONA = (
    r"(?:ai|chat ?bot|llm|language model|pirate|character|persona|dan|jailbroken|unrestricted"
    r"|uncensored|unfiltered|evil|rogue|assistant(?= ?(?:[^\w ]|$))"
    r"|(?:developer|debug|god|admin|jailbreak|unrestricted|dan) mode)\b"
)
_REPLY = ("respond", "reply", "answer")
# What a planted line tells a model, addressed in the third person, to do with its answer.
_ANSWER_THIS_WAY = (
    r"(?:(?:say|claim|pretend)\b|(?:respond|reply|answer) (?:that|only|with|[\"'])"
    rf"|tell the user|{_SETTING_ASIDE}(?:{_WHAT_WAS_SAID}))"
)
_MODAL = r"(?:must|should|shall|will|is to|needs to|has to)"

# (needles, pattern): every match of the pattern contains one of its needles, which are
# checked first because a substring search costs next to nothing and most passages have none.
# Instructions wherever they stand: no legal or medical sentence speaks like these.
_ANYWHERE_RULES = (
    (
        ("<", "[", "##"),
        r"<\|? ?(?:im_start|im_end|system|endoftext|eot_id|start_header_id) ?\|?>"
        r"|<< ?/? ?sys ?>>|\[/?(?:inst|system)\]|##+ ?(?:system|instruction|response) ?:",
    ),
    (
        ("system prompt",),
        r"\b(?:(?:your|my|the following|new|updated|real|hidden|secret|original) system prompt"
        r"|system prompt ?[:=]|(?:reveal|print|show|repeat|output|display|leak|ignore|override"
        r"|disregard|forget) (?:\w+ ){0,2}system prompt)\b",
    ),
    (
        ("you are now", "from now on", "you will now", "pretend"),
        rf"\b(?:you are now|from now on,? you (?:are|will be|act as)|you will now (?:act|behave"
        rf"|respond) as|pretend (?:to be|you are)) (?:\S+ ){{0,3}}?{_PERSONA}",
    ),
    (
        ("as a",),
        rf"\bas an? (?:{_ADDRESSEE}|ai language model|assistant) ?,? you {_MODAL}"
        r" (?:(?:now|always|only|not) )*(?:say|state|answer|respond|reply|output|tell|claim"
        r"|confirm|cite|ignore|disregard|refuse|pretend)\b",
    ),
    (
        ("note", "message", "instruction", "reminder", "hint", "attention", "directive"),
        r"\b(?:note|message|instructions?|reminder|hint|attention|directive) (?:to|for)"
        rf" (?:the |any |all )?{_ADDRESSEE}s? ?[:,\-\u2014]",
    ),
    (
        tuple(f"{verb} th" for verb in ("reading", "summarising", "summarizing", "parsing")),
        rf"\b(?:(?:any|every|all|each|dear|hey) (?:ai )?(?:models?|assistants?)|{_ADDRESSEE}s?)"
        r" (?:that is |who is )?(?:reading|summari[sz]ing|parsing) th(?:is|ese)\b",
    ),
    (
        ("if you are",),
        rf"\bif you are (?:an? )?(?:{_ADDRESSEE}|bot)(?= ?[,.;:!?)]| (?:reading|and|or|you"
        r"|then|that|who|processing|summari[sz]ing)\b)",
    ),
    (("cite",), r"\bcite (?:only )?(?:source|passage|document)s? ?(?:no\.? ?|number ?)?\[?\d"),
)
# Imperatives that legal and medical text also uses: an instruction only where they open a
# clause or follow an address to the reader or the model (see `_opens_clause`).
_IMPERATIVE_RULES = (
    (
        (
            *_SETTING_ASIDE_VERBS,
            *("aside", "throw out", "no attention", "no heed"),
            *(f"{negation} {verb}" for negation in _NEGATIONS for verb in _FOLLOWING),
        ),
        rf"\b{_SETTING_ASIDE}(?:{_WHAT_WAS_SAID})",
    ),
    (
        (
            *(f"{verb} {word}" for verb in _REPLY for word in ("with", "only", "just", "solely")),
            *(f"{verb} exclusively" for verb in _REPLY),
            *(f"only {verb}" for verb in _REPLY),
        ),
        r"\b(?:(?:respond|reply|answer) (?:only|solely|exclusively|just) (?:with\b|[\"'])"
        r"|only (?:respond|reply|answer) with|(?:respond|reply|answer) with (?:only|just"
        r"|exactly)\b)",
    ),
    (
        ("cite", "quote", "mention", "reference"),
        r"\b(?:do not|don'?t|never|stop) (?:cite|quote|mention|reference) (?:any )?"
        r"(?:(?:the )?other )?(?:sources?|passages?|documents?|context|references?"
        r"|citations?)\b",
    ),
    (
        ("the user", "your answer", "your response", "your reply"),
        r"\b(?:do not|don'?t|never) (?:mention|reveal|disclose|repeat|show|explain) (?:any of )?"
        r"(?:these|this|the|my|your) (?:instructions?|prompts?|messages?|notes?|text|rules?)"
        r" (?:to the user|in your (?:answer|response|reply))\b",
    ),
    (
        ("the following", "exactly", "verbatim", "word for word"),
        r"\b(?:output (?:exactly |only )?the following|(?:say|write|print|output|repeat|respond"
        r"|reply|answer) (?:with )?(?:exactly|verbatim|word for word))\b",
    ),
    (
        ("user", "reader", "asker", "questioner", "person asking"),
        r"\b(?:tell|inform|remind|assure|convince|advise) (?:the )?(?:user|reader|asker"
        r"|questioner|person asking)s? (?:that|to)\b",
    ),
    (
        ("instruction", "directive", "prompt", "command", "task"),
        r"\b(?:new|updated|real|actual|true|secret|hidden|override|system|admin|developer)"
        r" (?:instructions?|directives?|prompt|commands?|task) ?:",
    ),
    (
        ("ai ", "a.i. ", "chatbot", "chat bot", "llm", "language model", "gpt"),
        rf"\b(?:the )?{_ADDRESSEE} {_MODAL} (?:(?:now|always|only) )*(?:{_ANSWER_THIS_WAY}"
        r"|cite|output|print)\b",
    ),
    (
        ("the assistant", "the model", "the bot"),
        rf"\bthe (?:assistant|model|bot) {_MODAL} (?:(?:now|always|only) )*{_ANSWER_THIS_WAY}",
    ),
    (
        tuple(
            f"{word}{mark}"
            for word in ("ai", "a.i.", "assistant", "model", "bot", "llm", "gpt", "claude")
            for mark in (",", ":")
        ),
        rf"\b{_VOCATIVE}[,:] (?:(?:please|now) )?(?:ignore|disregard|forget|say|state|answer"
        r"|respond|reply|tell|output|print|write|repeat|reveal|always|never|do not|don'?t"
        r"|you (?:must|should|will|are))\b",
    ),
)
# What may stand before an imperative in its sentence: nothing, punctuation or a rule number,
# then words that only lead into a command ("Please", "Now", "Important:"); or an address to
# the reader or the model a few words back ("you must now", "I want you to", "AI model,"). A
# model named in the third person ("the AI must") is the reader's subject, not the reader.
_LEADS_INTO_COMMAND = re.compile(
    r"(?:(?:^|[^\w ]|\d) ?(?:(?:please|kindly|now|just|simply|first|then|so|also|immediately"
    r"|instead|always|hereby|henceforth|important|note|attention|warning|urgent|system|admin|ok"
    r"|okay|hey|hi|hello|ps|dear)\W* ?)*|\b(?:you(?: ?[,:]| (?:must|should|shall|will|need|have"
    rf"|are|is|now|to|can|may)\b)|{_VOCATIVE} ?[,:])(?:\W+\w+){{0,3}}\W*)$"
)
_CLAUSE_END = re.compile(r".*[.!?;] ")
_LEAD_CHARS = 80

# Soft hyphens go with the line break after them, as the indexer takes them (normalise.py).
_SOFT_HYPHEN = re.compile(r"\u00ad\s*")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A single space is left alone: replacing every one would cost more than the rest of folding.
_WHITESPACE = re.compile(r"\s{2,}|[^\S ]")
_LOOK_ALIKES = str.maketrans(
    "аеорсухіјѕԁһԛԝАВЕКМНОРСТХІЈЅοιαρνκτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ‘’‛ʼ′“”‟″",
    "aeopcyxijsdhqwABEKMHOPCTXIJSoiapvktuxABEZHIKMNOPTYX'''''\"\"\"\"",
)
# Tag characters spell ASCII invisibly, and some models read them: they are read as ASCII.
_TAGS = range(0xE0020, 0xE007F)
_DROPPED = frozenset(("Cf", "Mn", "Me"))


def _compiled(rules: tuple) -> tuple[tuple[tuple[str, ...], re.Pattern], ...]:
    return tuple((needles, re.compile(pattern)) for needles, pattern in rules)


ANYWHERE = _compiled(_ANYWHERE_RULES)
IMPERATIVE = _compiled(_IMPERATIVE_RULES)


@lru_cache(maxsize=1024)
def without_instructions(passage: str) -> str:
    """The passage with every sentence that carries an instruction to the model removed."""
    found = instruction_spans(fold(passage))
    if not found:
        return passage
    return _cut(passage, [_source_span(passage, start, end) for start, end in found])


def instruction_spans(folded: str) -> list[tuple[int, int]]:
    """(start, end) of each instruction to the model in `fold`ed text."""
    # Folding leaves no character whose lowercase is longer, so positions carry over.
    lowered = folded.lower()
    spans = [match.span() for match in _matches(ANYWHERE, lowered)]
    imperatives = _matches(IMPERATIVE, lowered)
    return spans + [m.span() for m in imperatives if _opens_clause(folded, *m.span())]


def _matches(rules, lowered: str) -> list[re.Match]:
    return [
        match
        for needles, pattern in rules
        if any(needle in lowered for needle in needles)
        for match in pattern.finditer(lowered)
    ]


def _opens_clause(folded: str, start: int, end: int) -> bool:
    lead = _CLAUSE_END.sub("", folded[max(0, start - _LEAD_CHARS) : start], count=1)
    # A capitalised word ("Record keeping Ignore all ...") or a shouted phrase in mid-sentence
    # is a line that a heading ran into when the line break was folded away; an acronym
    # ("providers of AI must") or a clause in capitals ("THE FIRM MUST IGNORE") is not.
    titled = folded[start].isupper() and folded[start + 1 : start + 2].islower()
    shouted = folded[start:end].isupper() and not lead.rstrip()[-1:].isupper()
    return titled or shouted or bool(_LEADS_INTO_COMMAND.search(lead.lower()))


def fold(text: str) -> str:
    """`text` as detection reads it (see the module docstring)."""
    if not text.isascii():
        text = _NON_ASCII.sub(_fold_match, _SOFT_HYPHEN.sub("", text))
    return _WHITESPACE.sub(" ", text).lstrip()


def _fold_match(match: re.Match) -> str:
    return _fold_char(match.group())


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if ord(char) in _TAGS:
        return chr(ord(char) - 0xE0000)
    decomposed = unicodedata.normalize("NFKD", char).translate(_LOOK_ALIKES)
    return "".join(c for c in decomposed if unicodedata.category(c) not in _DROPPED)


def _source_span(passage: str, start: int, end: int) -> tuple[int, int]:
    # The folded text of a prefix is a prefix of the folded text, and it grows with the
    # prefix, so the source of folded character k is where the folded prefix passes k.
    def folded_length(prefix_end: int) -> int:
        return len(fold(passage[:prefix_end]))

    positions = range(len(passage) + 1)
    first = bisect.bisect_right(positions, start, key=folded_length) - 1
    last = bisect.bisect_right(positions, end - 1, key=folded_length) - 1
    return first, last + 1


def _cut(passage: str, found: list[tuple[int, int]]) -> str:
    spans = sentence_spans(passage)
    kept, cursor = [], 0
    for start, end in _removed(spans, _doomed(passage, spans, found)):
        kept.append(passage[cursor:start])
        cursor = end
    kept.append(passage[cursor:])
    return "".join(kept)


def _doomed(passage: str, spans: list[tuple[int, int]], found: list[tuple[int, int]]) -> set[int]:
    doomed = {
        index
        for index, (start, end) in enumerate(spans)
        if any(start < hit_end and hit_start < end for hit_start, hit_end in found)
    }
    # "New instructions:" on a line of its own: what it introduces is the instruction.
    return doomed | {
        index + 1
        for index in doomed
        if index + 1 < len(spans) and passage[spans[index][1] - 1] == ":"
    }


def _removed(spans: list[tuple[int, int]], doomed: set[int]) -> list[tuple[int, int]]:
    """Source ranges to drop: each doomed sentence with the space after it; a doomed run at
    the end of the passage with the space before it, so that the passage ends as it did."""
    removed = []
    for index in sorted(doomed):
        if all(later in doomed for later in range(index, len(spans))):
            start = spans[index - 1][1] if index else spans[index][0]
            return [*removed, (start, spans[-1][1])]
        removed.append((spans[index][0], spans[index + 1][0]))
    return removed
