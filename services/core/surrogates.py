"""Unpaired UTF-16 surrogates (U+D800..U+DFFF) in Python strings: the strict JSON reader refuses them in JSON
text, but a producer client can pass them inside Python objects, and no UTF-8 encoder (Avro's included) can
write them. Found here, they are a field error (422), never an exception while encoding."""

from __future__ import annotations

import re
from typing import Any

from eahub.core.errors import FieldError

_SURROGATE = re.compile("[\ud800-\udfff]")


def surrogate_errors(obj: Any, path: str = "") -> list[FieldError]:
    """One error per string (or key) of `obj` that holds an unpaired surrogate, named by its dotted path."""
    if not _any_surrogate(obj):  # the usual answer, found without building a path for every field
        return []
    return _named(obj, path)


def _any_surrogate(obj: Any) -> bool:
    strings: list[str] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            strings.extend(str(key) for key in item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return _SURROGATE.search("".join(strings)) is not None


def _named(obj: Any, path: str) -> list[FieldError]:
    if isinstance(obj, str):
        found = _SURROGATE.search(obj)
        return [FieldError(path, "holds an unpaired surrogate (not encodable as UTF-8)")] if found else []
    errors: list[FieldError] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            name = str(key) if not _SURROGATE.search(str(key)) else "?"
            child = f"{path}.{name}" if path else name
            if name == "?":
                errors.append(FieldError(path, "has a key holding an unpaired surrogate"))
            errors += _named(value, child)
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            errors += _named(value, f"{path}[{i}]")
    return errors
