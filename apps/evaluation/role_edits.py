"""Who does what to whom, reversed: two parties, or the two sides of a verb, trade places.

"The Buyer shall pay the Seller" becomes "The Seller shall pay the Buyer", "Excess weight can
cause high blood pressure" becomes "High blood pressure can cause excess weight", "transferred
from the Seller to the Buyer" becomes "from the Buyer to the Seller". Every word stays; only
their order changes. Pairs joined only by "and" or "or", or after "between", are left alone:
swapping them changes nothing.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from apps.evaluation.example_text import FUNCTION_WORDS, introduces_repetition, is_name

DETERMINER = (
    r"(?:the|a|an|this|that|these|those|its|their|his|her|your|our|any|each|every|all|some|such)"
)
PARTY = re.compile(
    rf"(?:\b(?i:{DETERMINER}) )?(?<![\w’'/-])[A-Z][A-Za-z-]*(?: [A-Z][A-Za-z-]*)*(?![\w/-])"
)
SYMMETRIC_GAP = re.compile(r"^[\s,;/&]*(?:(?:and|or|nor|and/or|as well as|the|a|an)\b[\s,]*)*$")
NOUN_WORD = r"[a-z][a-z-]{2,}"
NOUN_PHRASE = rf"(?:{DETERMINER} )?(?:{NOUN_WORD} ){{0,2}}?{NOUN_WORD}"
PHRASE_END = (
    r"(?=[,.;:)]| (?:and|or|in|on|at|by|for|with|from|to|within|under|if|when|where|which|"
    r"who|that|as|after|before|during|through|because|than|into|among|unless|is|are|was|"
    r"were|[a-z]+ing)\b)"
)
SUBJECT_START = r"(?:^|(?<=, )|(?<=; )|(?<=: )|(?<=\bthat )|(?<=\bwhich )|(?<=\bwhether ))"
# Verbs with a doer and a done-to, in the forms a sentence uses them: base, -s, past.
VERBS = (
    "pay pays paid; notify notifies notified; inform informs informed; indemnify indemnifies "
    "indemnified; reimburse reimburses reimbursed; compensate compensates compensated; employ "
    "employs employed; hire hires hired; supervise supervises supervised; appoint appoints "
    "appointed; acquire acquires acquired; own owns owned; control controls controlled; "
    "license licenses licensed; supply supplies supplied; identify identifies identified; "
    "verify verifies verified; monitor monitors monitored; approve approves approved; assess "
    "assesses assessed; review reviews reviewed; authorise authorises authorised; designate "
    "designates designated; represent represents represented; audit audits audited; oversee "
    "oversees oversaw; instruct instructs instructed; advise advises advised; govern governs "
    "governed; supersede supersedes superseded; override overrides overrode; sue sues sued; "
    "cause causes caused; trigger triggers triggered; activate activates activated; inhibit "
    "inhibits inhibited; block blocks blocked; regulate regulates regulated; treat treats "
    "treated; prevent prevents prevented; replace replaces replaced; protect protects "
    "protected; damage damages damaged; attack attacks attacked; infect infects infected; "
    "transmit transmits transmitted; produce produces produced; stimulate stimulates "
    "stimulated; suppress suppresses suppressed; destroy destroys destroyed; carry carries "
    "carried; predict predicts predicted; reduce reduces reduced; increase increases "
    "increased; improve improves improved; precede precedes preceded; outweigh outweighs "
    "outweighed; exceed exceeds exceeded; outperform outperforms outperformed; bind binds "
    "bound; kill kills killed; owe owes owed; affect affects affected; grant grants granted; "
    "sell sells sold; assign assigns assigned; transfer transfers transferred; deliver "
    "delivers delivered; provide provides provided; disclose discloses disclosed; submit "
    "submits submitted; lend lends lent; charge charges charged; invoice invoices invoiced"
)
PHRASAL = "lead to|leads to|led to|result in|results in|resulted in|give rise to|gives rise to"
PHRASAL += "|gave rise to|contribute to|contributes to|contributed to|depend on|depends on"
VERB_WORDS = frozenset(VERBS.replace(";", " ").split())
VERB = "|".join(sorted({*VERB_WORDS, *PHRASAL.split("|")}, key=len, reverse=True))
# Between two parties, what makes one the doer and the other the done-to, within a clause.
RELATION = re.compile(
    rf"\b(?:must|shall|may|will|should|can|could|would|is|are|was|were|by|against|than|{VERB})\b"
)
MAX_GAP_WORDS = 8
MIDDLE = (
    r"(?: (?:must|shall|may|can|could|will|would|should|might|does|did|do|has|have|had))?"
    r"(?: (?:also|often|usually|directly|typically|commonly|generally|frequently|always|not|"
    r"further|significantly))?"
)
AROUND_VERB = re.compile(
    rf"{SUBJECT_START}(?P<a>(?i:{NOUN_PHRASE}))(?P<mid>{MIDDLE} (?:{VERB}|(?:is|are|was|were)"
    rf" (?:caused|transmitted|regulated|controlled|produced|treated|replaced|inhibited) by))"
    rf" (?P<b>{NOUN_PHRASE}){PHRASE_END}(?! of\b)"
)
FROM_TO = re.compile(
    rf"\bfrom (?P<a>{NOUN_PHRASE}) to (?P<b>{NOUN_PHRASE}){PHRASE_END}(?! of\b)", re.IGNORECASE
)
THAN = re.compile(
    rf"\b(?P<p>in|for|among|with|at|on|by) (?P<a>{NOUN_PHRASE}) than (?P=p) (?P<b>{NOUN_PHRASE})"
    rf"{PHRASE_END}",
)


def swapped_roles(sentence: str, names: set[str], rng: random.Random) -> str | None:
    """Two parties, or the two sides of a verb, swapped; `names` are the words the passage
    capitalises in mid-sentence (so a first word that is one counts as a party)."""
    options = [*party_swaps(sentence, names), *phrase_swaps(sentence, names)]
    rng.shuffle(options)
    for edited in options:
        if edited != sentence and not introduces_repetition(sentence, edited):
            return edited
    return None


def party_swaps(sentence: str, names: set[str]) -> Iterator[str]:
    parties = [m for m in PARTY.finditer(sentence) if is_party(m, names)]
    for index, first in enumerate(parties):
        for second in parties[index + 1 :]:
            if swappable(sentence, first, second):
                yield exchanged(sentence, first.span(), second.span(), names)


def is_party(match: re.Match, names: set[str]) -> bool:
    name = bare(match.group(0))
    if not all(is_name(word) for word in name.split()) or defined_or_bracketed(match):
        return False
    first_word = match.start() == len(match.string) - len(match.string.lstrip('"“‘('))
    return not first_word or name.split()[0] in names or match.group(0) != name


def defined_or_bracketed(match: re.Match) -> bool:
    """A term being defined ('("Royalty Payment")') or an acronym in brackets: the name of
    something already named, not a party to the clause."""
    before = match.string[: match.start()]
    opening_quote = before.rstrip()[-1:] in ('"', "“", "‘", "'")
    return before.count("(") > before.count(")") or opening_quote


def bare(party: str) -> str:
    return re.sub(rf"^(?i:{DETERMINER}) ", "", party)


def swappable(sentence: str, first: re.Match, second: re.Match) -> bool:
    one, other = bare(first.group(0)), bare(second.group(0))
    if one.lower() == other.lower() or one in other or other in one:
        return False
    once = all(
        len(re.findall(rf"(?<![\w-]){re.escape(n)}(?![\w-])", sentence)) == 1 for n in (one, other)
    )
    between = sentence[first.end() : second.start()]
    after_between = sentence[: first.start()].rstrip().lower().endswith("between")
    related = RELATION.search(between) and len(between.split()) <= MAX_GAP_WORDS
    return (
        once
        and bool(related)
        and not SYMMETRIC_GAP.match(between)
        and not after_between
        and plural(one) == plural(other)
    )


def phrase_swaps(sentence: str, names: set[str]) -> Iterator[str]:
    for pattern in (AROUND_VERB, FROM_TO, THAN):
        for match in pattern.finditer(sentence):
            a, b = match.group("a"), match.group("b")
            lone_before_comma = " " not in b and sentence[match.end("b") :].startswith(",")
            if (
                content(a)
                and content(b)
                and not lone_before_comma
                and a.lower() != b.lower()
                and plural(a) == plural(b)
            ):
                yield exchanged(sentence, match.span("a"), match.span("b"), names)


def content(phrase: str) -> bool:
    """A noun phrase: an optional determiner, then words that are not function words."""
    words = phrase.lower().split()
    if re.fullmatch(DETERMINER, words[0]) and len(words) > 1:
        words = words[1:]
    return not any(
        w in FUNCTION_WORDS or w in VERB_WORDS or w.endswith(("ly", "ing")) for w in words
    )


def plural(phrase: str) -> bool:
    last = phrase.split()[-1].lower()
    return bool(re.search(r"[^suie]s$|[^s]es$", last))


def exchanged(
    sentence: str, first: tuple[int, int], second: tuple[int, int], names: set[str]
) -> str:
    (a_start, a_end), (b_start, b_end) = first, second
    a, b = sentence[a_start:a_end], sentence[b_start:b_end]
    if a_start == 0:
        a, b = lowered(a, names), b[:1].upper() + b[1:]
    return sentence[:a_start] + b + sentence[a_end:b_start] + a + sentence[b_end:]


def lowered(phrase: str, names: set[str]) -> str:
    """A phrase that opened the sentence, put in the middle of one: "The Buyer" -> "the
    Buyer", "Excess weight" -> "excess weight", but a name ("Licensee") stays as it is."""
    first = phrase.split(" ", 1)[0]
    if not re.fullmatch(DETERMINER, first.lower()) and (first in names or first.isupper()):
        return phrase
    return phrase[:1].lower() + phrase[1:]
