import json
import stat
from pathlib import Path

import pytest

from eahub.ingest.tokens import TokenStore, UnknownAgency

pytestmark = pytest.mark.unit
AGENCIES = ["lancashire-police", "nwas"]


def test_issue_stores_only_a_hash_with_owner_only_permissions(tmp_path: Path) -> None:
    store = TokenStore.in_data_dir(tmp_path / "data")
    info, token = store.issue("nwas", AGENCIES)
    text = (tmp_path / "data" / "tokens.json").read_text()
    assert token not in text and info.sha256 in text
    assert stat.S_IMODE((tmp_path / "data" / "tokens.json").stat().st_mode) == 0o600
    assert json.loads(text)["tokens"][0]["agency"] == "nwas"
    assert store.agency_for(token) == "nwas"
    assert store.agency_for(token + "x") is None


def test_unknown_agency_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownAgency, match="unknown agency 'acme'"):
        TokenStore(tmp_path / "tokens.json").issue("acme", AGENCIES)
    assert not (tmp_path / "tokens.json").exists()


def test_list_and_revoke_take_effect_for_another_reader(tmp_path: Path) -> None:
    writer, reader = TokenStore(tmp_path / "tokens.json"), TokenStore(tmp_path / "tokens.json")
    a, token_a = writer.issue("lancashire-police", AGENCIES)
    b, token_b = writer.issue("nwas", AGENCIES)
    assert reader.agency_for(token_a) == "lancashire-police"
    assert [(t.token_id, t.agency) for t in writer.all()] == [(a.token_id, a.agency), (b.token_id, b.agency)]
    assert writer.revoke(a.token_id)
    assert not writer.revoke(a.token_id)
    assert reader.agency_for(token_a) is None
    assert reader.agency_for(token_b) == "nwas"


def test_tokens_are_distinct(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    tokens = {store.issue("nwas", AGENCIES)[1] for _ in range(5)}
    assert len(tokens) == 5
