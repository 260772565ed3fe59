"""Times are shown in Europe/London with the zone written out; autoescape is on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eahub.core.web.templating import duration, iso_london, london, make_environment

pytestmark = pytest.mark.unit


def test_london_time_with_zone_across_daylight_saving() -> None:
    assert london(datetime(2026, 12, 1, 16, 5, tzinfo=UTC)) == "Tue 01 Dec 2026, 16:05 GMT"
    assert london(datetime(2026, 7, 1, 16, 5, tzinfo=UTC)) == "Wed 01 Jul 2026, 17:05 BST"
    assert iso_london("2026-07-01T16:05:00.000Z") == "Wed 01 Jul 2026, 17:05 BST"
    assert london(None) == "—" and iso_london("not a time") == "not a time"


def test_duration_and_autoescape() -> None:
    assert duration(65 * 60) == "1 h 05 min" and duration(3 * 86400 + 7200) == "3 d 2 h" and duration(-90) == "1 min"
    html = make_environment().from_string("{{ v }}").render(v="<script>x</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html
