"""Constrained decoding to answer_format.ANSWER_SCHEMA for a local model.

`AnswerMachine` reads the answer character by character, in one fixed layout:

    {"statements": [{"citations": [1, 2], "quote": "...", "text": "..."}],
     "abstain": {"reason": "..."}}

with keys in that order, "quote" and "abstain" optional, an optional single space after each
colon and comma, citations that are source numbers 1..N, and capped lengths. From every state
it knows the shortest way to finish, so `AnswerConstraint` can end the answer as valid JSON
within any token budget: once the budget only just covers that ending, the ending is forced.

`AnswerConstraint` masks the model's next-token scores to the tokens whose text keeps the
output a valid prefix. Checking every token of a large vocabulary in Python at every step would
be too slow, so the vocabulary is sorted once per tokenizer: inside a string, "plain" tokens
(no quote, backslash or control character) are allowed by one tensor comparison, and only the
few tokens holding a quote or backslash are run through the machine; between strings, only the
tokens made of the layout's own characters are run through it, and the result is cached per
state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from apps.assistant.answer_format import MAX_STATEMENTS

MAX_CITATIONS = 8  # per statement
MAX_TEXT_CHARS = 600  # per string: statement text, quote or abstain reason
OPTIONAL_SPACE = "␣"  # in a layout pattern: one space may be written here, or none

# Fixed stretches of the layout, entered at their first character. A statement names its
# sources first, so that what it copies next is read from the sources it has named.
OPEN = '{"statements":␣['
STATEMENT = '{"citations":␣['
AFTER_CITATIONS = ',␣"'  # then "quote" or "text"
QUOTE_KEY = 'quote":␣"'
TEXT_KEY = 'text":␣"'
TEXT = ',␣"text":␣"'
NEXT_STATEMENT = ",␣" + STATEMENT
ABSTAIN = ',␣"abstain":␣{"reason":␣"'
PATTERNS = (OPEN, STATEMENT, AFTER_CITATIONS, QUOTE_KEY, TEXT_KEY, TEXT, NEXT_STATEMENT, ABSTAIN)

STRINGS = ("text", "quote", "reason")
ESCAPES = {'"', "\\", "/", "n", "t"}
LAYOUT_CHARACTERS = frozenset("".join(PATTERNS).replace(OPTIONAL_SPACE, " ") + "0123456789]}")


@dataclass(frozen=True)
class State:
    """Where the answer is: `mode` is a pattern, a string kind or a layout position; `position`
    is the index into a pattern, or the citation number being written."""

    mode: str
    position: int = 0
    statements: int = 0
    citations: int = 0
    length: int = 0
    escaped: bool = False


START = State(OPEN)
DONE = State("done")


class AnswerMachine:
    """The answer layout for a prompt with `sources` numbered sources."""

    def __init__(self, sources: int) -> None:
        self.sources = sources
        self.closing_lengths: dict[State, int] = {}

    def advance(self, state: State, text: str) -> State | None:
        """The state after writing `text`, or None if it cannot continue a valid answer."""
        for character in text:
            state = self.step(state, character)
            if state is None:
                return None
        return state

    def step(self, state: State, character: str) -> State | None:
        mode = state.mode
        if mode in PATTERNS:
            return self.step_pattern(state, character)
        if mode in STRINGS:
            return self.step_string(state, character)
        if mode in ("first_citation", "next_citation"):
            if mode == "next_citation" and character == " " and state.position == 0:
                return replace(state, mode="first_citation")
            return self.step_digit(replace(state, position=0), character)
        if mode == "citation":
            if character == "," and state.citations < MAX_CITATIONS:
                return replace(state, mode="next_citation", position=0)
            if character == "]":
                return replace(state, mode=AFTER_CITATIONS, position=0)
            return self.step_digit(state, character)
        if mode == "key":
            if character == "q":
                return self.enter(state, QUOTE_KEY, character)
            return self.enter(state, TEXT_KEY, character)
        if mode == "end_statement":
            return self.statement_written(state) if character == "}" else None
        if mode == "first_statement":
            if character == "]":
                return State("after_statements", statements=state.statements)
            if self.sources and character == "{":
                return self.enter(state, STATEMENT, character)
            return None
        if mode == "after_statement":
            if character == "]":
                return State("after_statements", statements=state.statements)
            if state.statements < MAX_STATEMENTS:
                return self.enter(state, NEXT_STATEMENT, character)
            return None
        if mode == "after_statements":
            if character == "}":
                return DONE
            return self.enter(state, ABSTAIN, character)
        if mode == "end_reason":
            return State("end") if character == "}" else None
        if mode == "end":
            return DONE if character == "}" else None
        return None

    def step_pattern(self, state: State, character: str) -> State | None:
        pattern, position = state.mode, state.position
        if pattern[position] == OPTIONAL_SPACE:
            if character == " ":
                return self.pattern_moved(state, position + 1)
            position += 1
        if pattern[position] != character:
            return None
        return self.pattern_moved(state, position + 1)

    def pattern_moved(self, state: State, position: int) -> State:
        if position < len(state.mode):
            return replace(state, position=position)
        following = {
            OPEN: "first_statement",
            STATEMENT: "first_citation",
            AFTER_CITATIONS: "key",
            QUOTE_KEY: "quote",
            TEXT_KEY: "text",
            TEXT: "text",
            NEXT_STATEMENT: "first_citation",
            ABSTAIN: "reason",
        }[state.mode]
        return replace(state, mode=following, position=0, length=0)

    def enter(self, state: State, pattern: str, character: str) -> State | None:
        return self.step_pattern(replace(state, mode=pattern, position=0), character)

    def step_string(self, state: State, character: str) -> State | None:
        if ord(character) < 0x20:
            return None
        if state.escaped:
            if character not in ESCAPES:
                return None
            return replace(state, escaped=False, length=state.length + 1)
        if character == '"':
            following = {"quote": TEXT, "text": "end_statement", "reason": "end_reason"}
            mode = following[state.mode]
            if mode == "end_reason":
                return State("end_reason")
            return replace(state, mode=mode, position=0, length=0)
        if state.length >= MAX_TEXT_CHARS:
            return None
        if character == "\\":
            return replace(state, escaped=True)
        return replace(state, length=state.length + 1)

    def step_digit(self, state: State, character: str) -> State | None:
        if not character.isdigit() or not character.isascii():
            return None
        number = state.position * 10 + int(character)
        if number == 0 or number > self.sources:
            return None
        citations = state.citations + (state.position == 0)
        return replace(state, mode="citation", position=number, citations=citations)

    def statement_written(self, state: State) -> State:
        return State("after_statement", statements=state.statements + 1)

    def closing_character(self, state: State) -> str:
        """The next character of the shortest way to finish the answer from `state`."""
        mode = state.mode
        if mode in PATTERNS:
            pattern = mode[state.position :].replace(OPTIONAL_SPACE, "")
            return pattern[0]
        if mode in STRINGS:
            return '"'
        return {
            "first_citation": "1",
            "next_citation": "1",
            "citation": "]",
            "key": "t",
            "end_statement": "}",
            "first_statement": "]",
            "after_statement": "]",
            "after_statements": "}",
            "end_reason": "}",
            "end": "}",
        }[mode]

    def closing_length(self, state: State) -> int:
        """How many characters the shortest way to finish the answer takes."""
        if state not in self.closing_lengths:
            following = self.step(state, self.closing_character(state)) if state != DONE else None
            self.closing_lengths[state] = (
                0 if following is None else 1 + self.closing_length(following)
            )
        return self.closing_lengths[state]


@dataclass(frozen=True)
class Vocabulary:
    """A tokenizer's tokens sorted for the constraint; built once per tokenizer."""

    texts: tuple[str, ...]
    plain: object  # bool tensor: usable inside a string without checking
    lengths: object  # long tensor: characters in each token's text
    in_strings: tuple[int, ...]  # token ids that hold a quote or backslash, checked in strings
    layout: dict[str, tuple[int, ...]]  # first character -> ids made of layout characters only
    single: dict[str, int]  # character -> the id of a token whose text is that character alone
    longest: int  # characters in the longest token

    @classmethod
    def build(cls, texts: Sequence[str], unusable: set[int]) -> Vocabulary:
        """`texts` are the decoded tokens by id; `unusable` ids (special and added tokens) are
        never chosen."""
        import torch

        plain, in_strings, layout, single = [], [], {}, {}
        for token_id, text in enumerate(texts):
            usable = (
                token_id not in unusable
                and text != ""
                and "\ufffd" not in text
                and all(ord(character) >= 0x20 for character in text)
            )
            has_escape = '"' in text or "\\" in text
            plain.append(usable and not has_escape)
            if not usable:
                continue
            if has_escape:
                in_strings.append(token_id)
            if set(text) <= LAYOUT_CHARACTERS:
                layout.setdefault(text[0], []).append(token_id)
            if len(text) == 1:
                single.setdefault(text, token_id)
        return cls(
            texts=tuple(texts),
            plain=torch.tensor(plain, dtype=torch.bool),
            lengths=torch.tensor([len(text) for text in texts]),
            in_strings=tuple(in_strings),
            layout={first: tuple(ids) for first, ids in layout.items()},
            single=single,
            longest=max(map(len, texts)),
        )


class AnswerConstraint:
    """Chooses each next token of one answer among those that keep it valid."""

    def __init__(self, vocabulary: Vocabulary, sources: int) -> None:
        self.vocabulary = vocabulary
        self.machine = AnswerMachine(sources)
        self.state = START
        self.cached_choices: dict[State, tuple[object, object]] = {}

    @property
    def done(self) -> bool:
        return self.state == DONE

    def allowed(self, budget: int):
        """The ids of the tokens allowed next, when `budget` tokens (this one included) remain."""
        import torch

        if self.machine.closing_length(self.state) >= budget:
            return torch.tensor([self.closing_token()])
        ids, closings = self.choices()
        if closings.max() >= budget:
            ids = ids[closings < budget]
        return ids

    def choices(self):
        """The ids of the tokens that continue the answer here, with the closing length each
        leaves. Cached per state; inside a string, per state with the length left out while
        no token can reach the length cap, since then the length changes nothing."""
        state = self.state
        if state.mode in STRINGS and not state.escaped:
            room = MAX_TEXT_CHARS - state.length
            if room >= self.vocabulary.longest:
                state = replace(state, length=0)
        if state not in self.cached_choices:
            self.cached_choices[state] = self.find_choices(state)
        return self.cached_choices[state]

    def find_choices(self, state: State):
        import torch

        vocabulary = self.vocabulary
        if state.mode in STRINGS:
            candidates = list(vocabulary.in_strings)
            if state.escaped:
                candidates += [vocabulary.single[c] for c in ESCAPES if c in vocabulary.single]
        else:
            candidates = [
                token_id
                for first, ids in vocabulary.layout.items()
                if self.machine.step(state, first) is not None
                for token_id in ids
            ]
        ids, closings = [], []
        for token_id in candidates:
            following = self.machine.advance(state, vocabulary.texts[token_id])
            if following is not None:
                ids.append(token_id)
                closings.append(self.machine.closing_length(following))
        ids = torch.tensor(ids, dtype=torch.long)
        closings = torch.tensor(closings, dtype=torch.long)
        if state.mode in STRINGS and not state.escaped:
            # A plain token leaves the string open, so the closing length stays as it is.
            room = MAX_TEXT_CHARS - state.length
            plain = (vocabulary.plain & (vocabulary.lengths <= room)).nonzero().flatten()
            closing = torch.full_like(plain, self.machine.closing_length(state))
            ids, closings = torch.cat([plain, ids]), torch.cat([closing, closings])
        if not len(ids):
            ids = torch.tensor([self.closing_token()])
            closings = torch.tensor([self.machine.closing_length(state) - 1])
        return ids, closings

    def closing_token(self) -> int:
        character = self.machine.closing_character(self.state)
        try:
            return self.vocabulary.single[character]
        except KeyError:
            raise ValueError(f"the tokenizer has no token for {character!r} alone") from None

    def accept(self, token_id: int) -> str:
        """Write the chosen token; returns its text."""
        text = self.vocabulary.texts[token_id]
        following = self.machine.advance(self.state, text)
        if following is None:
            raise ValueError(f"token {token_id} ({text!r}) does not continue the answer")
        self.state = following
        return text
