"""data.hub.shares, what each recipient receives under each ISA and under break-glass, is evaluated once when
the bundle loads (regorus) from the policy's own `shares` rule: OPA's evaluator computes the same document
from the same sources, every (ISA, recipient) of the data has its entry, and a changed allow-list changes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eahub.core.paths import POLICIES_DIR
from eahub.policy.bundle import PolicyBundle
from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine

pytestmark = pytest.mark.unit

BUNDLE = PolicyBundle.load(POLICIES_DIR)
SHARES = BUNDLE.data["hub"]["shares"]


def test_opa_computes_the_same_shares_from_the_sources() -> None:
    opa = OpaEmbeddedEngine(BUNDLE)
    try:
        assert opa.evaluate("eahub.sharing.shares") == SHARES
    finally:
        opa.close()


def test_every_isa_recipient_and_every_agency_has_its_share() -> None:
    hub = BUNDLE.data["hub"]
    expected = {f"{i['id']} v{i['version']}": set(i["recipients"]) for i in hub["isas"]}
    assert {k: set(v) for k, v in SHARES["isa"].items()} == expected
    assert set(SHARES["no_isa"]) == set(hub["agencies"])
    assert SHARES["all_leaves"] == sorted(hub["schema"]["leaves"])
    for by_recipient in SHARES["isa"].values():
        for share in by_recipient.values():
            assert not {f for f in share["fields_shared"] if f.startswith("referrer.")}
            assert sorted(share["fields_shared"] + share["fields_withheld"]) == SHARES["all_leaves"]


def test_a_changed_allow_list_changes_the_shares(tmp_path: Path) -> None:
    root = Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))
    path = root / "data" / "isas.json"
    doc = json.loads(path.read_text())
    doc["isas"][2]["recipients"]["nwas"]["fields"].remove("subject.date_of_birth")
    path.write_text(json.dumps(doc))
    key = f"{doc['isas'][2]['id']} v{doc['isas'][2]['version']}"
    assert "subject.date_of_birth" in SHARES["isa"][key]["nwas"]["fields_shared"]
    changed = PolicyBundle.load(root).data["hub"]["shares"]["isa"][key]["nwas"]
    assert "subject.date_of_birth" in changed["fields_withheld"]
