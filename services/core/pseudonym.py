"""Keyed pseudonyms for subjects: HMAC-SHA256 with the hub secret over a normalised identity.

The same person gets the same reference across agencies and events (NHS number when known,
otherwise name and date of birth), yet the reference reveals nothing without the hub secret.
It keys every Kafka message about the person, so their events keep order on one partition."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from pathlib import Path
from typing import Any

from eahub.core.secrets import read_or_create


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonymisation key must be at least 16 bytes")
        self._key = key

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> Pseudonymiser:
        return cls(read_or_create(data_dir / "secrets" / "pseudonym.key"))

    def subject_ref(self, event: dict[str, Any]) -> str:
        subject = event.get("subject") or {}
        nhs = (subject.get("nhs_number") or "").replace(" ", "")
        if nhs:
            identity = f"nhs:{nhs}"
        elif subject.get("name"):
            dob = subject.get("date_of_birth")
            dob_text = dob.isoformat() if isinstance(dob, date) else str(dob or "")
            identity = f"name:{' '.join(subject['name'].lower().split())}|dob:{dob_text}"
        else:
            # No identifiable subject: key by the source's own reference so the event still orders.
            identity = f"event:{event.get('source_agency')}:{event.get('source_reference') or event['event_id']}"
        digest = hmac.new(self._key, identity.encode(), hashlib.sha256).hexdigest()
        return f"subj-{digest[:32]}"
