"""Edits that change what a sentence means while keeping its numbers, negations and names:
the modal softened or hardened, the deadline moved, the comparison or quantity reversed, the
unit of a number changed. These are the errors a language model makes when it paraphrases.

The vocabulary is this module's own, written from how rules, contracts, opinions and medical
texts say these things, not from the checker's lexicon.
"""

from __future__ import annotations

import random
import re

from apps.evaluation.example_edits import edit_once, rule_table

NUMBER = (
    r"(?:[0-9][0-9,.]*|\[\*+\]|\)|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
    r"twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety|hundred|several|few|many)"
)
# The number a unit follows, kept as it is: digits, a number word, "[***]" (a redacted number)
# or the bracket closing "thirty (30)".
COUNT = rf"(?P<count>(?<![\w.]){NUMBER}|\))"

MODALITY = rule_table(
    {
        r"\b(?:must|shall) not\b": "may|should not|need not",
        r"\bmay not\b": "may|will not|should not",
        r"\bshould not\b": "must not|may|need not",
        r"\bwill not\b": "may not|might not",
        r"\bcannot\b": "should not|need not",
        r"\bneed not\b": "must|shall|should",
        r"\bmust\b(?! not\b)": "may|should|can",
        r"\bshall\b(?! not\b)": "may|should|can",
        r"\bmay\b(?! not\b)": "must|shall|will|should",
        r"\bcan\b(?! not\b)": "must|will|should",
        r"\bshould\b(?! not\b)": "must|may|can|need not",
        r"(?<!\bthe )(?<!\bhis )(?<!\bher )(?<!\bits )(?<!\bown )"
        r"\bwill\b(?! not\b)(?= [a-z])": "may|might|could",
        r"\bmight\b(?! not\b)": "will|must",
        r"\bcould\b(?! not\b)(?= [a-z])": "will|must",
        r"\b(is|are) (?:required|obliged|obligated|bound) to\b": r"\1 permitted to|\1 allowed to"
        r"|\1 encouraged to|may",
        r"\b(is|are) not required to\b": r"\1 required to|must",
        r"\b(is|are) (?:permitted|allowed|entitled|authori[sz]ed|free) to\b": r"\1 required to"
        r"|\1 obliged to|must",
        r"\b(is|are) (?:encouraged|expected|advised) to\b": r"\1 required to|must",
        r"\b(has|have) to\b": r"may|\1 the option to",
        r"\b(has|have) the right to\b": r"\1 the duty to|must",
        r"\b(is|are) (?:prohibited|barred|forbidden) from\b": r"\1 discouraged from|\1 exempt from",
        r"\b(is|are) (?:prohibited|forbidden|not permitted|not allowed)\b(?! from| to)": r"\1 "
        r"permitted|\1 discouraged|\1 recommended",
        r"\b(is|are) (?:recommended|advisable|advised)\b(?! to)": r"\1 required|\1 mandatory",
        r"\b(is|are) (?:mandatory|compulsory|obligatory)\b": r"\1 optional|\1 recommended",
        r"\bmandatory\b": "optional|voluntary",
        r"\boptional\b": "mandatory|compulsory",
        r"\bvoluntary\b": "mandatory|compulsory",
    }
)

TIME = rule_table(
    {
        r"(?<!\blook )(?<!\blooks )(?<!\blooked )(?<!\blooking )(?<!\bnamed )(?<!\bsoon )"
        r"\bafter\b(?! all\b)": "before|prior to",
        r"(?<!\bthan )(?<!\bas )(?<!\bever )(?<!\bnever )\bbefore\b"
        r"(?! (?:the|a|any|his|her|its|their) (?:court|tribunal|judge|jury|board|committee"
        r"|panel|commission|regulator)\b)(?! (?:him|her|them|us|me)\b)"
        r"(?!\s*[.,;])(?! (?:and|or)\b)": "after|following",
        r"\bprior to\b": "after|following",
        r"\bsubsequent to\b": "before|prior to",
        r"\bsubsequently\b": "previously|beforehand",
        r"\bpreviously\b": "subsequently|later",
        r"\bno later than\b": "no earlier than|later than",
        r"\bnot later than\b": "not earlier than",
        r"\bno earlier than\b": "no later than",
        r"\bnot earlier than\b": "not later than",
        r"\bno sooner than\b": "no later than",
        r"\bat the latest\b": "at the earliest",
        r"\bat the earliest\b": "at the latest",
        rf"\bwithin\b(?= (?:{NUMBER}|a|an|the (?:first|next|same|following|period|time|"
        r"prescribed|specified|last)\b))": "after|more than",
        r"(?<!\band )(?<!\bnot )\buntil\b(?= (?:the|a|an|such|it|its|their|they|he|she|"
        r"[A-Z0-9]))": "after|before",
        r"(?<!\bthe )(?<!\bas )(?<!\bis )(?<!\bare )(?<!\bof )(?<!\bin )(?<!\bbe )(?<!\bby )"
        r"(?<!\bfrom )(?<!\bwithout )(?<!\bafter )(?<!\bbefore )(?<!\bon )(?<!\bfor )"
        r"(?<!\bnot )(?<!\bupon )"
        r"\bfollowing\b(?= (?:the|a|an|its|their|his|her|such|any|each|receipt|completion|"
        r"termination|expiry|expiration|approval|notification|treatment|surgery|exposure|"
        r"infection|birth|delivery|diagnosis|admission|discharge|[0-9]))": "before|prior to",
        r"\bduring\b": "after|before",
        r"\bearlier\b": "later",
        r"(?<!\bsooner or )\blater\b": "earlier",
        r"\bearliest\b": "latest",
        r"\blatest\b": "earliest",
        r"(?<!\bthe )\bpreceding\b": "following",
        r"\bthe preceding\b": "the following",
        r"\bprecedes\b": "follows",
        r"\bpreceded\b": "followed",
        r"\bfollowed by\b": "preceded by",
        r"\bat the (?:beginning|start|outset|commencement) of\b": "at the end of",
        r"\bat the end of\b": "at the start of|before the start of",
        r"\bas soon as (?:reasonably )?(possible|practicable)\b": r"as late as \1",
        r"\bimmediately\b": "eventually|later",
        r"\bpromptly\b": "eventually",
        r"\bsince\b(?= (?:[0-9]|birth|childhood|January|February|March|April|June|July|"
        r"August|September|October|November|December))": "until|before",
        r"\bbegins\b(?! to\b)": "ends",
        r"\bends\b": "begins",
        r"\bbegan\b(?! to\b)": "ended",
        r"\bexpires\b": "begins",
        r"\bin advance\b": "afterwards|in arrears",
        r"\bin arrears\b": "in advance",
        r"\bretrospectively\b": "prospectively",
        r"\bprospectively\b": "retrospectively",
        r"\bretrospective\b": "prospective",
        r"\bprospective\b": "retrospective",
    }
)

QUANTITY = rule_table(
    {
        r"\bat least\b": "at most|less than|up to",
        r"\bat most\b": "at least|more than",
        rf"\bup to\b(?= (?:{NUMBER}|\$|€|£|a maximum|the (?:amount|limit)))": "at least|more than",
        r"\b(no|not) less than\b": r"\1 more than",
        r"\b(no|not) more than\b": r"\1 less than",
        r"\b(no|not) fewer than\b": r"\1 more than",
        r"(?<!\bno )(?<!\bnot )\bmore than\b": "less than|fewer than",
        r"(?<!\bno )(?<!\bnot )\b(?:less|fewer) than\b": "more than",
        r"\b(?:greater|larger|higher) than\b": "less than|lower than",
        r"\b(?:lower|smaller) than\b": "higher than|greater than",
        rf"\b(?:over|above)\b(?= (?:{NUMBER}|\$|€|£))": "under|below",
        rf"\b(?:under|below)\b(?= (?:{NUMBER}|\$|€|£))": "over|above",
        r"\bexceeds\b": "falls below|is below",
        r"\bexceed\b": "fall below|be below",
        r"\bexceeding\b": "below|under",
        r"\b(has|have|had) exceeded\b": r"\1 fallen below",
        r"\bor (?:more|greater|above|higher)\b": "or less|or below",
        r"\bor (?:less|fewer|below|lower)\b": "or more|or above",
        r"\bminimum\b": "maximum",
        r"\bmaximum\b": "minimum",
        r"\bminimi([sz])e(s|d)?\b": r"maximi\1e\2",
        r"\bmaximi([sz])e(s|d)?\b": r"minimi\1e\2",
        r"(?<!\bat )(?<!\bfor )(?<!\bafter )"
        r"\ball\b(?! (?:but|too|the same|along)\b)(?=\s+[a-z])": "some|only some",
        r"\bevery\b(?= [a-z])": "one|a single",
        r"\beach\b(?= (?!other\b)[a-z])": "one|a single",
        r"\bnone of\b": "all of|most of",
        r"\balways\b": "sometimes|rarely",
        r"\b(?:usually|generally|typically|commonly|frequently|often)\b": "rarely|seldom",
        r"\b(?:rarely|seldom|occasionally)\b": "often|usually",
        r"\bsometimes\b": "always|never",
        r"\bthe most\b": "the least",
        r"\bthe least\b": "the most",
        r"\bmost of\b": "few of|a minority of",
        r"\bmost\b(?= (?:people|patients|cases|adults|children|women|men|firms|persons)\b)": "few",
        r"(?<!\bhow )(?<!\bso )(?<!\btoo )\bmany\b": "few",
        r"(?<!\ba )\bfew\b": "many",
        r"\bmore (likely|common|frequent|effective|severe|serious|important|difficult|"
        r"expensive|often|prevalent|sensitive|accurate|useful|stringent|susceptible)\b": r"less \1",
        r"\bless (likely|common|frequent|effective|severe|serious|important|difficult|"
        r"expensive|often|prevalent|sensitive|accurate|useful|stringent|susceptible)\b": r"more \1",
        r"\bmajority\b": "minority",
        r"\bminority\b": "majority",
        r"\bincrease(s|d)?\b": r"decrease\1",
        r"\bincreasing\b": "decreasing",
        r"\bdecrease(s|d)?\b": r"increase\1",
        r"\bdecreasing\b": "increasing",
        r"\breduce(s|d)?\b": r"increase\1",
        r"\breduction\b": "increase",
        r"\b(?:higher|greater)\b(?! than)": "lower",
        r"\b(?:lower|smaller)\b(?! than)": "higher",
        r"\bhighest\b": "lowest",
        r"\blowest\b": "highest",
        r"\blarger\b(?! than)": "smaller",
        r"\blargest\b": "smallest",
        r"\bsmallest\b": "largest",
        r"\bhigh\b(?!-)": "low",
        r"\blow\b(?!-)": "high",
        r"\belevated\b": "reduced|low",
        r"\brises\b": "falls",
        r"\bimprove\b": "worsen",
        r"\bimproves\b": "worsens",
        r"\bimproved\b": "worsened",
        r"\bimprovement\b": "deterioration",
        r"\bworsen\b": "improve",
        r"\bworsens\b": "improves",
        r"\bworsened\b": "improved",
        r"\bdouble(s|d)?\b": r"halve\1",
        r"\btwice as\b": "half as",
        r"\bsignificantly\b": "slightly|marginally",
        r"\ba significant\b": "a slight|a marginal",
        r"\b(?:fully|completely|entirely|wholly)\b": "partially|partly",
        r"\b(?:partially|partly)\b": "fully|completely",
        r"\bin full\b(?=\s*[,.;)]|\s+(?:by|within|on|at|when|upon|before|after|to)\b)": "in part",
        r"\bin part\b(?! of)": "in full",
        r"\bgain\b": "loss",
        r"\bloss\b": "gain",
    }
)

TIME_UNITS = {
    "second": "minute|hour",
    "minute": "hour|second",
    "hour": "day|minute",
    "day": "week|month",
    "business day": "week|month",
    "calendar day": "week|month",
    "week": "month|day",
    "month": "year|week",
    "year": "month|decade",
    "decade": "year",
}
MEASURES = {
    "mg": "g|mcg",
    "g": "mg|kg",
    "kg": "g|lb",
    "mcg": "mg",
    "µg": "mg",
    "ml": "L|dL",
    "mL": "L|dL",
    "L": "mL",
    "cm": "mm|m",
    "mm": "cm",
    "km": "m|miles",
    "mmol/L": "mg/dL",
    "mg/dL": "mmol/L",
    "IU": "mg",
}
FREQUENCIES = {"day": "week|month", "week": "month|day", "month": "year|week", "year": "month"}
CURRENCIES = {
    r"\$(?=[0-9])": "€|£",
    r"(?:US\$|USD)(?= ?[0-9])": "EUR|GBP",
    r"(?:EUR|€)(?= ?[0-9])": "USD|GBP",
    r"(?:GBP|£)(?= ?[0-9])": "USD|EUR",
    r"AED(?= ?[0-9])": "USD|EUR",
    rf"{COUNT} (?:US )?dollars\b": r"\g<count> euros|\g<count> pounds",
    rf"{COUNT} million\b": r"\g<count> billion|\g<count> thousand",
    rf"{COUNT} billion\b": r"\g<count> million|\g<count> trillion",
    rf"{COUNT} thousand\b": r"\g<count> million",
    rf"{COUNT} ?(?:%|per ?cent\b|percent\b)": r"\g<count> basis points|\g<count> per thousand",
    rf"{COUNT} basis points\b": r"\g<count> per cent",
}


def unit_rules() -> tuple:
    """A unit after a number becomes another unit of the same dimension; the number stays,
    and so does the unit's number ("30 days" -> "30 weeks", "a 30-day period" -> "30-month")."""
    times = {
        rf"{COUNT}(?P<sep> |-){unit}(?P<plural>s?)\b": "|".join(
            rf"\g<count>\g<sep>{other}\g<plural>" for other in others.split("|")
        )
        for unit, others in TIME_UNITS.items()
    }
    frequencies = {
        rf"\b(?P<count>{NUMBER}|once|twice) (?P<per>a|per|each) {unit}\b": "|".join(
            rf"\g<count> \g<per> {other}" for other in others.split("|")
        )
        for unit, others in FREQUENCIES.items()
    }
    measures = {
        rf"{COUNT}(?P<sep> ?){re.escape(unit)}(?![\w/])": "|".join(
            rf"\g<count>\g<sep>{other}" for other in others.split("|")
        )
        for unit, others in MEASURES.items()
    }
    return rule_table(times | frequencies) + rule_table(measures | CURRENCIES, exact_case=True)


UNIT = unit_rules()


def changed_modality(sentence: str, rng: random.Random) -> str | None:
    """An obligation, permission, prohibition or recommendation turned into another."""
    return edit_once(MODALITY, sentence, rng)


def changed_time(sentence: str, rng: random.Random) -> str | None:
    """A time relation reversed or moved: before/after, within/after, no later/no earlier."""
    return edit_once(TIME, sentence, rng)


def changed_quantity(sentence: str, rng: random.Random) -> str | None:
    """A comparison, bound, quantifier or direction of change reversed."""
    return edit_once(QUANTITY, sentence, rng)


def changed_unit(sentence: str, rng: random.Random) -> str | None:
    """The unit of a number changed, the number kept."""
    return edit_once(UNIT, sentence, rng)
