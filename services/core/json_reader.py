"""The one way the hub reads JSON from outside (the HTTP API, `eahub publish`, `eahub policy explain`): strict,
so the same document is accepted or refused the same way everywhere.

Refused, each with a message that names what is wrong and never echoes a value: bytes that are not UTF-8,
syntax errors, duplicate keys, NaN/Infinity, numbers too long to be a real value, strings holding unpaired
surrogates (they cannot be encoded again), and nesting deeper than `MAX_DEPTH` (checked before parsing, so
no input can exhaust the parser's stack)."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 30


class JsonRejected(ValueError):
    """The text is not acceptable JSON; the message says why (and where, for syntax errors)."""


def strict_loads(data: bytes | str) -> Any:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRejected("not valid UTF-8") from None
    else:
        text = data
    text = text.removeprefix("\ufeff")
    # No deeper than its opening brackets: a text with few of them (a concern event has about ten) needs no walk.
    if text.count("[") + text.count("{") > MAX_DEPTH and nesting_depth(text) > MAX_DEPTH:
        raise JsonRejected(f"nested more than {MAX_DEPTH} levels deep")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants,
                           parse_int=_int, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise JsonRejected(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # unreachable after the depth check; kept so no input can escape as a crash
        raise JsonRejected(f"nested more than {MAX_DEPTH} levels deep") from None
    if not isinstance(data, bytes) or _SURROGATE_ESCAPE.search(text):  # decoded UTF-8 holds none but escaped ones
        _check_strings(value)
    return value


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, ignoring brackets inside strings (an unterminated one runs to
    the end). Strings are cut out by one regular expression and only the brackets left are walked."""
    depth = deepest = 0
    for ch in _BRACKET.findall(_STRING.sub("", text)):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise JsonRejected(f"duplicate key {_shown(key)}")
        obj[key] = value
    return obj


def _no_constants(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise JsonRejected(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS + 10:
        raise JsonRejected(f"a number has more than {MAX_NUMBER_DIGITS} digits")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JsonRejected("a number is out of range")
    return value


def _check_strings(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _encodable(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _encodable(key)
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonRejected("a string holds an unpaired surrogate escape (e.g. \\ud800)") from None


def _shown(key: str) -> str:
    """A key may be named in an error (keys are field names, not values), cut short and made printable."""
    safe = key.encode("utf-8", "replace").decode("utf-8")[:64]
    return repr(safe)
