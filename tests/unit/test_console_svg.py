"""The console's SVG bar chart: every label and value escaped (ledger text such as refusal reasons reaches it),
an accessible name and description, one bar per numeric series, nothing for an empty table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from eahub.audit.console.flows import Table
from eahub.audit.console.svg import bar_chart

pytestmark = pytest.mark.unit
SVG = "{http://www.w3.org/2000/svg}"


def test_labels_are_escaped_and_the_chart_is_well_formed_and_named() -> None:
    table = Table("t", "Refusals <by> reason", ("reason", "refusals"), [("<script>alert(1)</script>", 3), ("b & c", 1)])
    svg = bar_chart(table)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "t-t d-t"
    assert root.find(f"{SVG}title").text == "Refusals <by> reason"  # type: ignore[union-attr]
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("y") != "4"]  # not the legend swatches
    assert [float(b.get("width") or 0) for b in bars] == [360.0, 120.0]


def test_no_chart_for_an_empty_table_or_one_without_numbers() -> None:
    assert bar_chart(Table("e", "Empty", ("a", "b"), [])) == ""
    assert bar_chart(Table("s", "Text", ("a", "b"), [("x", "")])) == ""
