"""NHS numbers: 10 digits, the last a modulus-11 check digit over the first nine (weights 10 to 2)."""

from __future__ import annotations

import re

_FORMAT = re.compile(r"^(\d{10}|\d{3} \d{3} \d{4})$")


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no valid check digit exists (remainder gives 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    return None if digit == 10 else digit


def problem(value: str) -> str | None:
    """What is wrong with an NHS number as written ("9434765919" or "943 476 5919"), or None if valid."""
    if not _FORMAT.match(value):
        return "must be 10 digits (optionally grouped 3 3 4 with spaces)"
    digits = normalise(value)
    expected = check_digit(digits[:9])
    if expected is None:
        return "is not a valid NHS number (no check digit exists for its first nine digits)"
    if expected != int(digits[9]):
        return "check digit does not match"
    return None


def normalise(value: str) -> str:
    return value.replace(" ", "")


def complete(first_nine: str) -> str | None:
    """The full NHS number for nine digits, or None when those digits admit no check digit."""
    digit = check_digit(first_nine)
    return None if digit is None else f"{first_nine}{digit}"
