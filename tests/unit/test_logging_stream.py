"""The hub's log lines go to `sys.stderr` as it is when each line is written: a stream lent at set-up time (pytest's
capture, click's CliRunner) and closed since must not turn later lines into "--- Logging error ---" tracebacks, and a
missing stderr (interpreter shutdown) drops the line quietly."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from eahub.core.logging import configure_logging, get_logger


@pytest.fixture
def lent_stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Logging configured while stderr was a stream that is closed afterwards, as a test runner's would be."""
    lent = io.StringIO()
    monkeypatch.setattr(sys, "stderr", lent)
    configure_logging("console", "info")
    lent.close()
    yield lent
    monkeypatch.undo()
    configure_logging("console", "info")  # as the session's fixture left it


@pytest.mark.usefixtures("lent_stderr")
def test_lines_go_to_the_stderr_of_the_moment_not_the_closed_one_of_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    get_logger("eahub.test").info("a structlog line", case="c-1")
    logging.getLogger("eahub.test").warning("a standard library line")
    written = now.getvalue()
    assert "a structlog line" in written
    assert "a standard library line" in written
    assert "Logging error" not in written
    assert "Traceback" not in written


@pytest.mark.usefixtures("lent_stderr")
def test_no_stderr_at_all_drops_the_line_without_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", None)
    get_logger("eahub.test").warning("a line at shutdown")
    logging.getLogger("eahub.test").error("another line at shutdown")
