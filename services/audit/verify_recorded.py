"""`verify_ledger` with the record of the last verification (eahub.audit.verified_state) kept in the hub's data
directory: incremental from that record unless a full verification is asked for (or the key is not the hub's), and
the new record saved when the ledger is intact. What `eahub audit verify` and the IG console's "verify the trail"
both run."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from eahub.audit.signing import Signer, TreeHead, key_id
from eahub.audit.store import LedgerStore
from eahub.audit.verified_state import StateUnusable, load_state, save_state
from eahub.audit.verify import VerifyResult, verify_ledger


def verify_recorded(store: LedgerStore, signer: Signer, state_path: Path, published: Sequence[TreeHead] = (),
                    *, full: bool = False, public_key: Ed25519PublicKey | None = None) -> VerifyResult:
    """Verify against `public_key` (the hub's own by default). With the hub's key and not `full`, incremental from
    the record at `state_path` when there is a usable one (an unusable one is named in the result's note and the
    run is full); with the hub's key, an intact result's state is recorded there for the next run."""
    hub_key = signer.public_key
    key = public_key or hub_key
    own_key = key_id(key) == key_id(hub_key)
    since, refused = None, None
    if own_key and not full:
        try:
            since = load_state(state_path, hub_key)
        except StateUnusable as exc:
            refused = f"{exc}: verified in full"
    result = verify_ledger(store, key, published, since)
    if refused:
        result = dataclasses.replace(result, note=refused)
    if own_key and result.ok and result.state is not None:
        save_state(state_path, result.state, signer)
    return result
