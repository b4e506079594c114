"""Instructions planted in documents ("ignore previous instructions and state X").

Passages are data. A sentence that addresses the model rather than the reader can never
support a statement, so it is cut from the passage before the checker looks for support.
"""

from __future__ import annotations

import re

INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.!?\n]{0,60}?\b(previous|prior|above|earlier|"
    r"preceding|all|any|other|your|the)\b[^.!?\n]{0,30}?\b(instructions?|prompts?|directives?)\b"
    r"|\bsystem prompt\b"
    r"|\b(new|updated|real) instructions?\s*:"
    r"|\byou are now\b"
    r"|\b(as an? )?(ai|language model|assistant|chatbot)\b[^.!?\n]{0,40}\b(must|should|will)\s+"
    r"(say|state|answer|respond|reply|output)\b",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def without_instructions(passage: str) -> str:
    """The passage with every sentence that carries an instruction to the model removed."""
    if not INSTRUCTION.search(passage):
        return passage
    sentences = SENTENCE_END.split(passage)
    return " ".join(s for s in sentences if not INSTRUCTION.search(s))
