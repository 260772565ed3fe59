"""The Rego `_test` packages, run by `eahub policy test` inside pytest; and `eahub policy explain`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.core.paths import POLICIES_DIR
from eahub.ingest.examples import example_event
from eahub.policy.bundle import PolicyBundle
from eahub.policy.cli import policy
from eahub.policy.test_runner import run_tests

pytestmark = pytest.mark.unit


def test_every_rego_test_passes_with_coverage() -> None:
    run = run_tests(PolicyBundle.load(POLICIES_DIR))
    assert len(run.tests) >= 20
    assert [t.name for t in run.tests if not t.passed] == []
    assert run.coverage_percent > 90


def test_policy_test_cli_passes() -> None:
    result = CliRunner().invoke(policy, ["test", "--policies", str(POLICIES_DIR)])
    assert result.exit_code == 0, result.output
    assert "PASS  data.eahub.sharing_test.test_referrer_never_leaves_the_source" in result.output
    assert " 0 failed; coverage " in result.output


def test_policy_test_cli_fails_on_a_failing_test(tmp_path: Path) -> None:
    root = Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))
    tests = root / "eahub" / "sharing" / "decision_test.rego"
    tests.write_text(
        tests.read_text() + "\ntest_deliberately_wrong if {\n\tcount(sharing.decision.recipients) == 99\n}\n"
    )
    result = CliRunner().invoke(policy, ["test", "--policies", str(root)])
    assert result.exit_code == 1
    assert "FAIL  data.eahub.sharing_test.test_deliberately_wrong" in result.output
    assert " 1 failed; " in result.output


def test_policy_test_cli_exit_2_on_a_bundle_that_does_not_load(tmp_path: Path) -> None:
    root = Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))
    (root / "data" / "isas.json").write_text("[]")
    result = CliRunner().invoke(policy, ["test", "--policies", str(root)])
    assert result.exit_code == 2
    assert "isas.json: (top): Input should be a valid dictionary" in result.output


def test_explain_prints_each_recipient_with_reasons(tmp_path: Path) -> None:
    file = tmp_path / "event.json"
    file.write_text(
        json.dumps(
            example_event(
                security_marking="OFFICIAL", consent={"status": "REFUSED"}, risk_factors=["suicide-risk"]
            )
        )
    )
    result = CliRunner().invoke(policy, ["explain", str(file), "--date", "2026-06-01"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "shared with 3, refused 1" in out
    assert "lscft-mental-health: SHARED\n  ISA:          isa-lancs-mental-health-crisis v1.2" in out
    assert "serious harm (risk factors: suicide-risk)" in out
    assert "lancashire-cc-childrens: REFUSED" in out
    assert "Alex Example" not in out  # no personal value is ever printed


def test_explain_with_break_glass_and_bad_input(tmp_path: Path) -> None:
    file = tmp_path / "event.json"
    file.write_text(json.dumps(example_event()))
    result = CliRunner().invoke(
        policy,
        [
            "explain",
            str(file),
            "--date",
            "2026-06-01",
            "--override-recipient",
            "lancashire-cc-childrens",
            "--role",
            "caldicott-guardian",
            "--actor",
            "CG-7",
            "--justification",
            "risk",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "lancashire-cc-childrens: SHARED (break-glass override)" in result.output
    file.write_text(json.dumps(example_event(category="ARSON")))
    bad = CliRunner().invoke(policy, ["explain", str(file)])
    assert bad.exit_code == 2
    assert "not a valid concern event: category" in bad.output


def test_every_rego_test_passes_on_opas_own_evaluator_too() -> None:
    from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine

    bundle = PolicyBundle.load(POLICIES_DIR)
    opa = OpaEmbeddedEngine(bundle, with_tests=True)
    names = [t.name for t in run_tests(bundle).tests]
    assert [n for n in names if opa.evaluate(n.removeprefix("data.")) is not True] == []


def test_rego_style_entrypoints_annotated_internal_rules_marked_lines_within_120() -> None:
    text = (POLICIES_DIR / "eahub" / "sharing" / "decision.rego").read_text()
    lines = text.splitlines()
    for entrypoint in ("batch", "decision"):
        at = next(i for i, ln in enumerate(lines) if ln.startswith(f"{entrypoint} :="))
        block = lines[max(0, at - 5) : at]
        assert "# METADATA" in block and "# entrypoint: true" in block, entrypoint
    heads = {ln.split("(")[0].split("[")[0].split(" ")[0] for ln in lines if ln[:1].isalpha() or ln[:1] == "_"}
    public = {h for h in heads if not h.startswith("_")} - {"package", "import", "batch", "decision"}
    assert public == set(), f"internal rules without the _ prefix: {public}"
    for path in POLICIES_DIR.rglob("*.rego"):
        long = [i + 1 for i, ln in enumerate(path.read_text().splitlines()) if len(ln.expandtabs(4)) > 120]
        assert long == [], f"{path.name}: lines over 120: {long}"
