"""The hub's one strict JSON reader (`eahub.core.json_reader`), used by the HTTP API, `eahub publish` and
`eahub policy explain`."""

from __future__ import annotations

import pytest

from eahub.core.json_reader import MAX_DEPTH, JsonRejected, strict_loads

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "message"), [
    (b"\xff\xfe{}", "not valid UTF-8"),
    ('{"a": 1, "a": 2}', "duplicate key 'a'"),
    ('{"a": NaN}', "NaN is not a JSON number"),
    ('{"a": -Infinity}', "-Infinity is not a JSON number"),
    ('{"a": 1e999}', "out of range"),
    ('{"a": ' + "9" * 5000 + "}", "more than 30 digits"),
    ('{"a": "\\ud800"}', "unpaired surrogate"),
    ('{"\\udfff": 1}', "unpaired surrogate"),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"more than {MAX_DEPTH} levels"),
    ('{"a": [1, 2}', "line 1 column 12"),
])
def test_refuses_with_a_reason(text: str | bytes, message: str) -> None:
    with pytest.raises(JsonRejected, match=None) as caught:
        strict_loads(text)
    assert message in str(caught.value)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert strict_loads('{"narrative": "' + "[" * 500 + '"}') == {"narrative": "[" * 500}


def test_accepts_ordinary_json_with_a_byte_order_mark() -> None:
    assert strict_loads("\ufeff" + '{"a": [1, 2.5, "\\u00e9\\ud83d\\ude00", null, true]}') == {
        "a": [1, 2.5, "é😀", None, True]}


def test_depth_is_judged_by_nesting_not_by_the_number_of_brackets() -> None:
    """Many shallow arrays pass (the walk runs, as they hold more brackets than MAX_DEPTH); exactly MAX_DEPTH
    levels pass, one more is refused, also among strings holding brackets."""
    assert strict_loads("[" + ",".join(["[]"] * (MAX_DEPTH * 2)) + "]") == [[]] * (MAX_DEPTH * 2)
    assert strict_loads("[" * MAX_DEPTH + '"]]{"' + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonRejected, match="levels deep"):
        strict_loads('{"a": "[[[["' + ", " + '"b": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}")
