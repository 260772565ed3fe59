"""Runs the Rego tests of a bundle like `opa test`: every `test_*` rule of every `*_test.rego`
package, each passed or failed, with line coverage of the (non-test) policies from regorus."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from eahub.policy.bundle import PolicyBundle, engine_message

_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]*)\b", re.MULTILINE)
_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)


@dataclass(frozen=True)
class TestResult:
    name: str  # data.<package>.<rule>
    file: str
    passed: bool
    error: str | None = None


@dataclass(frozen=True)
class TestRun:
    tests: tuple[TestResult, ...]
    covered_lines: int
    coverable_lines: int

    @property
    def passed(self) -> bool:
        return bool(self.tests) and all(t.passed for t in self.tests)

    @property
    def coverage_percent(self) -> float:
        return 100.0 * self.covered_lines / self.coverable_lines if self.coverable_lines else 0.0


def run_tests(bundle: PolicyBundle) -> TestRun:
    engine = bundle.engine(with_tests=True)
    engine.set_enable_coverage(True)
    results = []
    for file, text in sorted(bundle.tests.items()):
        package = _PACKAGE.search(text)
        if package is None:
            continue
        for rule in dict.fromkeys(_TEST_RULE.findall(text)):  # a rule may have several bodies
            name = f"data.{package.group(1)}.{rule}"
            try:
                value = engine.eval_rule(name)
            except Exception as exc:  # an evaluation error is a failed test, reported with its message
                results.append(TestResult(name, file, False, engine_message(exc)))
                continue
            results.append(
                TestResult(name, file, value is True, None if value is True else f"result {value!r}")
            )
    report = json.loads(engine.get_coverage_report_as_json())
    covered = coverable = 0
    for f in report.get("files", []):
        if f["path"] in bundle.modules:
            covered += len(f["covered"])
            coverable += len(f["covered"]) + len(f["not_covered"])
    return TestRun(tuple(results), covered, coverable)
