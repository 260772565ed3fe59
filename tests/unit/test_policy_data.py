"""Policy data and bundle loading: clear errors naming file and path; `eahub policy check`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eahub.core.paths import POLICIES_DIR
from eahub.core.registry import agency_ids
from eahub.policy.bundle import PolicyBundle, PolicyLoadError
from eahub.policy.cli import policy

pytestmark = pytest.mark.unit


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    return Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def problems(root: Path) -> list[str]:
    with pytest.raises(PolicyLoadError) as info:
        PolicyBundle.load(root)
    return info.value.problems


def test_the_shipped_bundle_loads_with_the_schema_classification() -> None:
    bundle = PolicyBundle.load(POLICIES_DIR)
    hub = bundle.data["hub"]
    assert set(hub["agencies"]) == set(agency_ids(POLICIES_DIR))
    assert len({i["id"] for i in hub["isas"]}) >= 3
    assert hub["schema"]["fields"]["referrer.name"] == "protected-identity"
    assert hub["schema"]["fields"]["health_details"] == "special-category"
    assert hub["schema"]["envelope"] == [
        "event_id",
        "occurred_at",
        "reported_at",
        "source_agency",
        "category",
        "grade",
        "security_marking",
        "district",
        "consent.status",
    ]
    assert len(bundle.revision) == 64 and bundle.modules and bundle.tests


def test_revision_is_a_content_hash(policies: Path) -> None:
    before = PolicyBundle.load(policies).revision
    assert PolicyBundle.load(policies).revision == before
    edit_json(policies / "data" / "isas.json", lambda d: d["isas"][0].update(version="3.1"))
    assert PolicyBundle.load(policies).revision != before


def test_unknown_field_in_an_allow_list_names_file_and_path(policies: Path) -> None:
    edit_json(
        policies / "data" / "isas.json",
        lambda d: d["isas"][1]["recipients"]["nwas"]["fields"].append("subject.shoe_size"),
    )
    assert problems(policies) == [
        "isas.json: isas[1] (isa-lancs-adult-safeguarding v2.1).recipients.nwas.fields[4]: "
        "'subject.shoe_size' is not a field of the ConcernEvent schema"
    ]


def test_unknown_agency_and_category(policies: Path) -> None:
    def change(d: Any) -> None:
        d["isas"][2]["parties"].append("lancashire-fire")
        d["isas"][2]["categories"].append("BURGLARY")

    edit_json(policies / "data" / "isas.json", change)
    found = problems(policies)
    assert (
        "isas.json: isas[2] (isa-lancs-mental-health-crisis v1.2).parties[4]: "
        "unknown agency 'lancashire-fire'"
        in found
    )
    assert (
        "isas.json: isas[2] (isa-lancs-mental-health-crisis v1.2).categories[1]: "
        "'BURGLARY' is not a ConcernEvent category"
    ) in found


def test_shape_errors_name_the_path(policies: Path) -> None:
    edit_json(policies / "data" / "agencies.json", lambda d: d["agencies"][4].update(kind="fire-service"))
    edit_json(policies / "data" / "isas.json", lambda d: d["isas"][0].update(valid_to="someday"))
    found = problems(policies)
    assert any(p.startswith("agencies.json: agencies[4].kind: Input should be 'police'") for p in found)
    assert any(p.startswith("isas.json: isas[0].valid_to: Input should be a valid date") for p in found)


def test_overlapping_versions_of_one_isa_are_refused(policies: Path) -> None:
    edit_json(policies / "data" / "isas.json", lambda d: d["isas"][3].update(valid_to="2024-01-01"))
    assert problems(policies) == [
        "isas.json: isas[3] (isa-lancs-adult-safeguarding v1.0): "
        "in force on the same days as isas[1] (v2.1); "
        "versions of one ISA must not overlap"
    ]


def test_invalid_json_and_parse_errors_and_package_mismatch(policies: Path) -> None:
    (policies / "data" / "rules.json").write_text("{ not json")
    rego = policies / "eahub" / "sharing" / "decision.rego"
    rego.write_text(rego.read_text() + "\nbroken if {\n")
    (policies / "eahub" / "sharing" / "extra.rego").write_text("package eahub.other\n\nx := 1\n")
    found = problems(policies)
    assert any(p.startswith("eahub/sharing/decision.rego: Rego parse error:") for p in found)
    assert (
        "eahub/sharing/extra.rego: package eahub.other does not match its folder "
        "(expected package eahub.sharing)"
    ) in found
    assert (
        "rules.json: invalid JSON at line 1 column 3: Expecting property name enclosed in double quotes"
        in found
    )
    assert all("Stack backtrace" not in p for p in found)


def test_policy_check_cli(policies: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(policy, ["check", "--policies", str(policies)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK  2 policy file(s), 2 test file(s), 5 agencies, 4 ISAs; revision ")
    edit_json(policies / "data" / "rules.json", lambda d: d["rules"]["break_glass"]["fields"].append("mood"))
    bad = runner.invoke(policy, ["check", "--policies", str(policies)])
    assert bad.exit_code == 1
    assert (
        "PROBLEM  rules.json: rules.break_glass.fields[5]: 'mood' is not a field of the ConcernEvent schema"
        in bad.output
    )


def test_isa_risk_codes_come_from_the_vocabulary(policies: Path) -> None:
    def change(doc: Any) -> None:
        doc["isas"][1]["conditions"]["consent_override"]["serious_harm"]["risk_factors"].append("suicidal-ideation")

    edit_json(policies / "data" / "isas.json", change)
    found = "\n".join(problems(policies))
    assert "serious_harm.risk_factors[5]: 'suicidal-ideation' is not a code of risk_factors.json" in found


def test_isa_age_bands_are_checked(policies: Path) -> None:
    def change(doc: Any) -> None:
        doc["isas"][0]["recipients"]["lancashire-police"]["subject_age_bands"] = ["teenager"]

    edit_json(policies / "data" / "isas.json", change)
    found = "\n".join(problems(policies))
    assert "subject_age_bands[0]: Input should be 'child', 'adult' or 'unknown'" in found


def test_isa_roles_and_categories_by_age_band_are_checked(policies: Path) -> None:
    def change(doc: Any) -> None:
        doc["isas"][1]["recipients"]["lancashire-cc-adults"]["linked_adult_roles"] = ["LODGER"]
        doc["isas"][0]["categories_by_age_band"]["child"].append("ARSON")

    edit_json(policies / "data" / "isas.json", change)
    found = "\n".join(problems(policies))
    assert "recipients.lancashire-cc-adults.linked_adult_roles[0]: 'LODGER' is not a LinkedRole" in found
    assert "categories_by_age_band.child[4]: 'ARSON' is not a ConcernEvent category" in found
