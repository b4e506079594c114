"""What a statement claims beyond its words: modality, time relations, comparisons and
quantities, units, and who does what to whom. Each is compared with the passage sentence(s)
the statement rests on, deterministically.

The support score counts content terms, and the words that carry these meanings ("must",
"may", "before", "at least", "days") are stopwords or too common to weigh: a statement could
turn "must" into "may" or "the Buyer pays the Seller" around and still score 1.0. So each of
them is read here as a marker with a class, and the statement's markers must agree with its
anchor's:

- modality: obligation (must, shall, is required to), permission (may, can, is permitted to),
  prohibition (must not, may not, is prohibited from), recommendation (should), no obligation
  (need not, is not required to) and the future (will) are different classes, so "shall" and
  "must" agree but "should" and "must" do not;
- time relations: before, after, within (a deadline), no earlier than, until, during;
- comparisons and quantities: at least, more than, at most, less than (over, above, under and
  below only before a number), all, some, most, many, few, and the direction of a change
  (increase, higher vs decrease, lower; improve vs worsen);
- units attached to numbers (days, business days, months, years, per cent, currencies,
  doses): the statement's number must carry the unit it carries in the anchor;
- roles: two terms on either side of the same verb or preposition in the statement must not
  stand the other way round in the anchor ("the Seller must pay the Buyer" against "the Buyer
  must pay the Seller"), unless one of the two is passive ("paid by").

A marker is aligned by the term it governs (the first content word after it: "must *notify*",
"within *30*"): where the anchor has a marker of the same kind before the same term, their
classes must be equal; otherwise the statement's class must occur somewhere in the anchor.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from apps.retrieval.tokenize import analyse

MODALITY_MISMATCH = "modality_mismatch"
TIME_MISMATCH = "time_mismatch"
QUANTITY_MISMATCH = "quantity_mismatch"
UNIT_MISMATCH = "unit_mismatch"
ROLE_SWAP = "role_swap"

TOKEN = re.compile(r"[$£€%]|[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+")
# Folded away before reading: apostrophes ("mustn't" -> "mustnt") and format characters.
_DROPPED = re.compile("['’‘`\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")


@lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[str, ...]:
    folded = _DROPPED.sub("", unicodedata.normalize("NFKC", text).lower())
    return tuple(TOKEN.findall(folded))


Lexicon = dict[str, tuple[tuple[tuple[str, ...], str], ...]]


def _lexicon(entries: dict[str, str]) -> Lexicon:
    """Phrases, each with its class, by their first word and longest first ("#": a number
    must follow the phrase)."""
    classes: dict[tuple[str, ...], str] = {}
    for phrases, cls in entries.items():
        for phrase in phrases.split("|"):
            key = tuple(phrase.split())
            if key in classes:
                raise ValueError(f"{phrase!r} is listed for {classes[key]!r} and {cls!r}")
            classes[key] = cls
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for key, cls in classes.items():
        by_first.setdefault(key[0], []).append((key, cls))
    return {
        first: tuple(sorted(phrases, key=lambda entry: -len(entry[0])))
        for first, phrases in by_first.items()
    }


# "|"-separated phrases -> class. The longest phrase at a position wins, so "must not" is read
# before "must" and "no later than" before "later than".
MODALITY = _lexicon(
    {
        "must|shall|is required to|are required to|be required to|is obliged to|are obliged to"
        "|be obliged to|is obligated to|are obligated to|has to|have to|needs to|need to"
        "|requires|require|required|mandatory|compulsory|obligatory": "obligation",
        "must not|shall not|may not|cannot|can not|cant|mustnt|shant|must never|shall never"
        "|may never|is prohibited from|are prohibited from|be prohibited from|is prohibited"
        "|are prohibited|prohibited|prohibits|prohibit|is forbidden|forbidden|forbids"
        "|is not permitted to|are not permitted to|is not allowed to|are not allowed to"
        "|not permitted|not allowed|isnt permitted to|arent permitted to|isnt allowed to"
        "|arent allowed to": "prohibition",
        "may|can|might|could|is permitted to|are permitted to|be permitted to|permitted"
        "|permits|permit|is allowed to|are allowed to|be allowed to|allows|allow|allowed"
        "|is entitled to|are entitled to|be entitled to|entitled|has the right to"
        "|have the right to|has the discretion to|at its discretion|optional|voluntary"
        "|voluntarily|discretionary": "permission",
        "should|ought to|is recommended|are recommended|recommended|recommends"
        "|is advised to|are advised to|advisable|encouraged|encourages|encourage|urged"
        "|invited": "recommendation",
        "should not|shouldnt|ought not to|ought not|is not recommended|not recommended"
        "|isnt recommended|arent recommended|is advised not to": "discouraged",
        "need not|neednt|does not have to|do not have to|does not need to|do not need to"
        "|is not required to|are not required to|be not required to|not required to"
        "|not be required to|is not obliged to|are not obliged to|is under no obligation to"
        "|no obligation to|doesnt have to|dont have to|doesnt need to|dont need to"
        "|isnt required to|arent required to": "no_obligation",
        "will": "future",
        "will not|wont|will never": "future_not",
    }
)

TIME = _lexicon(
    {
        "before|prior to|earlier than|preceding|in advance of|ahead of|beforehand|sooner than"
        "|precedes|precede|preceded|earlier|earliest|previously|previous|prior": "before",
        "after|following|subsequent to|subsequently|later than|afterwards|thereafter|follows"
        "|succeeding|later|latest|next": "after",
        "immediately|promptly|forthwith|without delay|at once|instantly|straight away"
        "|as soon as possible|as soon as practicable": "immediate",
        "eventually|in due course|ultimately|at some point": "eventual",
        "retrospective|retrospectively|retroactive|retroactively|retrospect": "retrospective",
        "prospective|prospectively|going forward": "prospective",
        "begin|begins|began|begun|beginning|start|starts|started|starting|commence|commences"
        "|commenced|commencing|commencement|onset|opens|opening|inception": "start",
        "end|ends|ended|ending|terminate|terminates|terminated|termination|cease|ceases"
        "|ceased|cessation|expire|expires|expired|expiry|expiration|conclude|concludes"
        "|concluded|conclusion|closes|closing": "end",
        "within|no later than|not later than|by no later than|at the latest|not more than"
        "|no more than|by the end of|in no more than": "deadline",
        "no earlier than|not earlier than|not before|no sooner than|not sooner than"
        "|at the earliest|not prior to": "not_before",
        "until|till|up until|up to #": "until",
        "during|throughout|in the course of|while": "during",
    }
)
# A comparison before a number; "not more than" belongs to both comparisons and deadlines.
QUANTITY = _lexicon(
    {
        "at least|not less than|no less than|not fewer than|no fewer than|a minimum of|minimum"
        "|minimal|or more|or greater|or above|at a minimum|as a minimum": "at_least",
        "more than|greater than|in excess of|exceeds|exceed|exceeding|exceeded|higher than"
        "|larger than|longer than|over #|above #|upwards of": "more_than",
        "at most|not more than|no more than|a maximum of|maximum|or less|or fewer|or below"
        "|not exceeding|not to exceed|does not exceed|do not exceed|not exceed|up to #"
        "|no greater than|not greater than|no longer than|not longer than|at the most"
        "|as a maximum|capped at": "at_most",
        "less than|fewer than|lower than|smaller than|shorter than|below #|under #"
        "|beneath #": "less_than",
        "all|every|each|any|always|entire|whole|everyone|everything|both": "all",
        "a single|single|one of the|only one|just one|neither|either": "one",
        "some|certain|several|a few|a number of|part of|sometimes|occasionally|partly"
        "|partially|one or more": "some",
        "most|the majority of|majority|mostly|usually|generally|typically|often|frequently"
        "|commonly": "most",
        "many|numerous|a lot of|much": "many",
        "few|rarely|seldom|a minority of|minority": "few",
        "least|fewest": "least",
        "only|solely|exclusively": "only",
        "increase|increases|increased|increasing|rise|rises|rose|risen|rising|raise|raises"
        "|raised|raising|higher|greater|larger|more|grow|grows|grew|grown|growing|growth"
        "|elevated|elevate|elevates|boost|boosts|boosted|expand|expands|expanded|extend"
        "|extends|extended|longer|exceedingly|high|highest|large|largest|gain|gains|gained"
        "|excess|excessive|surplus|profit|profits": "up",
        "decrease|decreases|decreased|decreasing|decline|declines|declined|declining|reduce"
        "|reduces|reduced|reducing|reduction|lower|lowers|lowered|lowering|less|fewer|smaller"
        "|fall|falls|fell|fallen|falling|drop|drops|dropped|dropping|diminish|diminishes"
        "|diminished|lessen|lessens|lessened|shrink|shorten|shortens|shortened|shorter"
        "|cut|cuts|low|lowest|small|smallest|loss|losses|lost|deficit|deficient|deficiency"
        "|shortfall|minute|tiny": "down",
        "significantly|substantially|considerably|markedly|greatly|highly|strongly|severely"
        "|dramatically|sharply|significant|substantial|considerable|marked|major|severe"
        "|extremely": "strong",
        "slightly|marginally|somewhat|minimally|mildly|modestly|moderately|barely|slight"
        "|marginal|modest|mild|moderate|minor|little": "slight",
        "improve|improves|improved|improving|improvement|better|best|superior|benefit"
        "|benefits|beneficial|favourable|favorable|positive": "better",
        "worsen|worsens|worsened|worsening|worse|worst|deteriorate|deteriorates"
        "|deteriorated|deterioration|aggravate|aggravates|inferior|harm|harms|harmful"
        "|adverse|unfavourable|unfavorable|negative": "worse",
    }
)
CATEGORIES = {MODALITY_MISMATCH: MODALITY, TIME_MISMATCH: TIME, QUANTITY_MISMATCH: QUANTITY}

# Words between a marker and the term it governs that say nothing of the term.
_SKIPPED = frozenset(
    "a an the also only promptly immediately then thereafter still further forthwith "
    "be been being to its their his her such any".split()
)
_CONJUNCTIONS = frozenset("and or but nor".split())
# Directional words that tie two roles ("transfer from A to B").
_DIRECTIONAL = frozenset("to from by against than into onto towards toward".split())


@dataclass(frozen=True)
class Marker:
    cls: str
    start: int  # token index
    governs: str  # the first content term after it, "" if none


@lru_cache(maxsize=4096)
def term(token: str) -> str:
    """The BM25 analyser's term for one token, or "" for a stopword."""
    terms = analyse(token)
    return terms[0] if terms else ""


def is_number(token: str) -> bool:
    return token[0].isdigit() or token in NUMBER_WORDS


def markers(words: tuple[str, ...], lexicon: Lexicon) -> list[Marker]:
    """The phrases of `lexicon` in `words`, the longest at each position."""
    found, index = [], 0
    while index < len(words):
        for phrase, cls in lexicon.get(words[index], ()):
            size = len(phrase) - (phrase[-1] == "#")
            if phrase[-1] == "#" and not (
                index + size < len(words) and is_number(words[index + size])
            ):
                continue
            if words[index : index + size] == phrase[:size]:
                found.append(Marker(cls, index, governed(words, index + size)))
                index += size
                break
        else:
            index += 1
    return found


@lru_cache(maxsize=4096)
def anchor_markers(words: tuple[str, ...], reason: str) -> tuple[Marker, ...]:
    """An anchor sentence is compared with every statement that rests on it: read it once."""
    return tuple(markers(words, CATEGORIES[reason]))


def governed(words: tuple[str, ...], start: int) -> str:
    for word in words[start : start + 4]:
        if word in _SKIPPED or word.endswith("ly"):
            continue
        if is_number(word):
            return word
        if word in _CONJUNCTIONS:  # "before and after the change": the first governs nothing
            return ""
        if governs := term(word):  # other stopwords ("have", "other") say nothing of the term
            return governs
    return ""


def mismatched(claim: tuple[str, ...], anchor: tuple[str, ...]) -> str | None:
    """The reason code of the first kind of marker on which the claim and its anchor
    disagree, or None."""
    for reason, lexicon in CATEGORIES.items():
        found = anchor_markers(anchor, reason)
        classes = {m.cls for m in found}
        for marker in markers(claim, lexicon):
            aligned = {m.cls for m in found if marker.governs and m.governs == marker.governs}
            if marker.cls not in (aligned or classes):
                return reason
    return None


NUMBER_WORDS = {
    word: value
    for value, word in enumerate(
        (
            "zero one two three four five six seven eight nine ten eleven twelve "
            "thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
        ).split()
    )
} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
ORDINALS = {
    word: f"ordinal {value}"
    for value, word in enumerate(
        (
            "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh "
            "twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
            "nineteenth twentieth"
        ).split()
    )
}
UNITS = {
    **dict.fromkeys("second seconds sec secs".split(), "second"),
    **dict.fromkeys("minute minutes min mins".split(), "minute"),
    **dict.fromkeys("hour hours hr hrs".split(), "hour"),
    **dict.fromkeys("day days".split(), "day"),
    **dict.fromkeys("week weeks wk wks".split(), "week"),
    **dict.fromkeys("month months".split(), "month"),
    **dict.fromkeys("year years yr yrs".split(), "year"),
    **dict.fromkeys("decade decades".split(), "decade"),
    **dict.fromkeys("% percent percentage".split(), "percent"),
    **dict.fromkeys("$ usd dollar dollars".split(), "usd"),
    **dict.fromkeys("aed dirham dirhams".split(), "aed"),
    **dict.fromkeys("£ gbp pound pounds sterling".split(), "gbp"),
    **dict.fromkeys("€ eur euro euros".split(), "eur"),
    **dict.fromkeys("mg milligram milligrams".split(), "mg"),
    **dict.fromkeys("g gram grams".split(), "g"),
    **dict.fromkeys("kg kilogram kilograms".split(), "kg"),
    **dict.fromkeys("mcg µg microgram micrograms".split(), "mcg"),
    **dict.fromkeys("ml millilitre millilitres milliliter milliliters".split(), "ml"),
    **dict.fromkeys("l litre litres liter liters".split(), "l"),
    **dict.fromkeys("mmhg".split(), "mmhg"),
    **dict.fromkeys("iu".split(), "iu"),
    **dict.fromkeys("times".split(), "times"),
    **dict.fromkeys("bps point points".split(), "bps"),
    **dict.fromkeys("mm millimetre millimetres millimeter millimeters".split(), "mm"),
    **dict.fromkeys("cm centimetre centimetres centimeter centimeters".split(), "cm"),
    **dict.fromkeys("m metre metres meter meters".split(), "m"),
    **dict.fromkeys("km kilometre kilometres kilometer kilometers".split(), "km"),
    **dict.fromkeys("inch inches".split(), "inch"),
    **dict.fromkeys("mmol mol".split(), "mmol"),
}
TIME_UNITS = frozenset("second minute hour day business day week month year decade".split()) | {
    "business day"
}
_UNIT_QUALIFIERS = frozenset("business working banking".split())
_UNIT_FILLERS = frozenset("calendar consecutive full clear whole per basis".split())
VAGUE_AMOUNTS = frozenset("several few many numerous couple".split())  # "several years"
_SCALES = frozenset("thousand million billion trillion bn mn".split())
_CURRENCY_BEFORE = frozenset("$ usd aed £ gbp € eur".split())


def quantities(words: tuple[str, ...]) -> set[tuple[str, str]]:
    """(number, unit) pairs: "30 days", "thirty (30) business days", "six-year", "USD 5
    million", "5 per cent"; a unit before the number is a currency."""
    return {(value, unit) for _, value, unit in located_quantities(words)}


DEADLINES = frozenset({"deadline", "before", "after", "not_before", "until"})


def timed_quantities(words: tuple[str, ...]) -> set[tuple[str, str, str]]:
    """(relation, number, unit) for the periods of a text: "deadline" where a time relation
    comes just before the number ("within 30 days", "no later than 10 days after"), else
    "period" ("for at least six years", "is 1 year")."""
    relations = markers(words, TIME)
    timed = set()
    for index, value, unit in located_quantities(words):
        if unit not in TIME_UNITS:
            continue
        near = any(m.cls in DEADLINES and index - 4 <= m.start < index for m in relations)
        timed.add(("deadline" if near else "period", value, unit))
    return timed


def located_quantities(words: tuple[str, ...]) -> set[tuple[int, str, str]]:
    found = set()
    for index, word in enumerate(words):
        if not (is_number(word) or word in VAGUE_AMOUNTS):
            continue
        value = str(NUMBER_WORDS.get(word, word.replace(",", "")))
        unit = unit_after(words, index + 1)
        before = words[index - 1] if index else ""
        if before in _CURRENCY_BEFORE and (unit is None or unit in _SCALES):
            unit = " ".join(filter(None, (unit, UNITS[before])))
        if unit is not None:
            found.add((index, value, unit))
    return found


def unit_after(words: tuple[str, ...], start: int) -> str | None:
    qualifier = scale = ""
    for word in words[start : start + 4]:
        if is_number(word) or word in _UNIT_FILLERS:  # "thirty (30) calendar days"
            continue
        if word in _SCALES:
            scale = word + " "
        elif word in _UNIT_QUALIFIERS:
            qualifier = "business "
        elif word == "cent":  # "per cent"
            return scale + "percent"
        elif word in UNITS:
            unit = UNITS[word]
            return scale + (qualifier + unit if unit == "day" else unit)
        else:
            break
    return scale.strip() or None


def unit_mismatched(claim: tuple[str, ...], window: tuple[str, ...]) -> bool:
    """A number of the claim carries a unit that the same number never carries around its
    anchor (a number the anchor gives without a unit constrains nothing)."""
    anchor_units: dict[str, set[str]] = {}
    for value, unit in quantities(window):
        anchor_units.setdefault(value, set()).add(unit)
    return any(
        value in anchor_units and unit not in anchor_units[value]
        for value, unit in quantities(claim)
    )


def roles_swapped(claim: tuple[str, ...], anchor: tuple[str, ...]) -> bool:
    """Two terms of the claim stand on either side of a verb or directional word that also
    stands between them in the anchor, but the other way round, and the voice is the same."""
    claim_terms = positions(claim)
    anchor_terms = positions(anchor)
    order = sorted(
        (min(p), t) for t, p in claim_terms.items() if t not in _DIRECTIONAL and not is_number(t)
    )
    for i, (first_at, first) in enumerate(order):
        for second_at, second in order[i + 1 :]:
            if first not in anchor_terms or second not in anchor_terms:
                continue
            in_anchor_first, in_anchor_second = anchor_terms[first], anchor_terms[second]
            if max(in_anchor_second) >= min(in_anchor_first):
                continue  # not wholly reversed in the anchor
            pivots = {
                t
                for t, p in claim_terms.items()
                if t not in (first, second) and any(first_at < q < second_at for q in p)
            }
            lo, hi = max(in_anchor_second), min(in_anchor_first)
            if not any(any(lo < q < hi for q in anchor_terms.get(t, ())) for t in pivots):
                continue
            if passive_before(claim, second_at) == passive_before(anchor, hi):
                return True
    return False


def positions(words: tuple[str, ...]) -> dict[str, list[int]]:
    """Where each content term stands; directional words stand for themselves."""
    found: dict[str, list[int]] = {}
    for index, word in enumerate(words):
        key = word if word in _DIRECTIONAL else term(word)
        if key:
            found.setdefault(key, []).append(index)
    return found


def passive_before(words: tuple[str, ...], index: int) -> bool:
    return "by" in words[max(index - 3, 0) : index]
