"""A JSON parser that refuses deep nesting before Python's parser recurses into it."""

from __future__ import annotations

import io
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A string, skipped whole with its escapes (an unterminated one runs to the end, so that no
# match is ever retried: the scan stays linear), or a bracket.
TOKENS = re.compile(rb'"(?:[^"\\]++|\\.?)*+(?:"|\Z)|[\[\]{}]', re.DOTALL)
OPENING = frozenset(b"[{")


def nesting_depth(body: bytes, limit: int) -> int:
    """How deep `body`'s arrays and objects nest, counting no further than `limit` + 1."""
    depth = deepest = 0
    for match in TOKENS.finditer(body):
        token = match.group()
        if token[0] in OPENING:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif token[0] != ord('"'):
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """JSON bodies nested deeper than JSON_MAX_DEPTH are a 400, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        limit = settings.JSON_MAX_DEPTH
        if nesting_depth(body, limit) > limit:
            raise ParseError(f"JSON parse error - nested deeper than {limit} levels")
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
