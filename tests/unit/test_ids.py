"""Deterministic ids: stores dedupe on them, so the fast derivation must give exactly uuid5's values."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eahub.core import ids

pytestmark = pytest.mark.unit


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_derive_is_uuid5_of_the_joined_parts(parts: list[str]) -> None:
    assert ids.derive(*parts) == str(uuid.uuid5(ids._NAMESPACE, "\x1f".join(parts)))


def test_ids_keep_their_published_values() -> None:
    assert ids.derive("case", "e1", "lancashire-police", "d1") == "7095385e-a867-5c66-bb42-397c4f8359f2"
    assert ids.derive("audit", "DECISION", "e", "", "d") == "d774addd-5bec-5de2-9a9b-69574b4af73b"
