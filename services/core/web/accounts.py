"""Accounts of a web app over SQLAlchemy Core: one table per app (the board's `board_users`, the IG console's
`ig_users`), with the roles that app allows. Passwords are argon2id hashes (argon2-cffi); an unknown login costs
the same work as a known one (a dummy hash is verified; it is made at the first sign-in attempt, known login or not,
so that building a store costs no argon2 work), and a hash made with older parameters is replaced at the next
successful sign-in."""

from __future__ import annotations

import builtins
import threading
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)


class AccountError(ValueError):
    """A bad account request (unknown role, duplicate login, ...); the message names the field, not the value."""


@dataclass(frozen=True)
class Account:
    user_id: str
    login: str
    agency: str
    role: str
    email: str | None
    active: bool
    created_at_ms: int
    external: bool = False  # provisioned by OIDC (no local password)


def accounts_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name, metadata,
        Column("user_id", String(36), primary_key=True),
        Column("login", String(200), nullable=False, unique=True),
        Column("agency", String(100), nullable=False),
        Column("role", String(40), nullable=False),
        Column("email", String(320), nullable=True),
        Column("password_hash", String(400), nullable=True),
        Column("external_subject", String(400), nullable=True, unique=True),
        Column("active", Boolean, nullable=False, default=True),
        Column("created_at_ms", BigInteger, nullable=False),
    )


class Accounts:
    def __init__(self, engine: Engine, table_name: str, roles: Collection[str],
                 agencies: Collection[str] | None = None, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.metadata = MetaData()
        self.table = accounts_table(self.metadata, table_name)
        self.roles = tuple(roles)
        self.agencies = None if agencies is None else frozenset(agencies)
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    def _dummy_hash(self) -> str:
        """The hash an unknown login is verified against, made once, on the first sign-in attempt."""
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self.hasher.hash(uuid.uuid4().hex)
            return self._dummy

    def create_tables(self) -> None:
        self.metadata.create_all(self.engine)

    def _check(self, agency: str, role: str) -> None:
        if role not in self.roles:
            raise AccountError(f"role: must be one of {', '.join(self.roles)}")
        if self.agencies is not None and agency not in self.agencies:
            raise AccountError("agency: not a known agency")

    def add(self, login: str, agency: str, role: str, password: str | None, email: str | None = None,
            external_subject: str | None = None) -> Account:
        login = login.strip()
        if not login or len(login) > 200:
            raise AccountError("login: required, at most 200 characters")
        self._check(agency, role)
        if password is not None and len(password) < 8:
            raise AccountError("password: at least 8 characters")
        with self.engine.begin() as conn:
            if conn.execute(select(self.table.c.user_id).where(self.table.c.login == login)).first():
                raise AccountError("login: already taken")
            row = {"user_id": str(uuid.uuid4()), "login": login, "agency": agency, "role": role, "email": email,
                   "password_hash": None if password is None else self.hasher.hash(password),
                   "external_subject": external_subject, "active": True,
                   "created_at_ms": int(time.time() * 1000)}
            conn.execute(insert(self.table).values(**row))
        return self._account(row)

    def _account(self, row: object) -> Account:
        m = row if isinstance(row, dict) else row._mapping  # type: ignore[attr-defined]
        return Account(m["user_id"], m["login"], m["agency"], m["role"], m["email"], bool(m["active"]),
                       m["created_at_ms"], m["external_subject"] is not None)

    def list(self, agency: str | None = None) -> list[Account]:
        q = select(self.table).order_by(self.table.c.agency, self.table.c.login)
        if agency is not None:
            q = q.where(self.table.c.agency == agency)
        with self.engine.connect() as conn:
            return [self._account(r) for r in conn.execute(q)]

    def get(self, user_id: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.user_id == user_id)).first()
        return None if row is None else self._account(row)

    def by_login(self, login: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.login == login)).first()
        return None if row is None else self._account(row)

    def of_agency(self, agency: str, roles: Collection[str]) -> builtins.list[Account]:
        t = self.table
        q = select(t).where(t.c.agency == agency, t.c.role.in_(list(roles)), t.c.active.is_(True)).order_by(t.c.login)
        with self.engine.connect() as conn:
            return [self._account(r) for r in conn.execute(q)]

    def disable(self, login: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(update(self.table).where(self.table.c.login == login).values(active=False))
        return result.rowcount > 0

    def set_password(self, login: str, password: str) -> bool:
        if len(password) < 8:
            raise AccountError("password: at least 8 characters")
        with self.engine.begin() as conn:
            result = conn.execute(update(self.table).where(self.table.c.login == login)
                                  .values(password_hash=self.hasher.hash(password), active=True))
        return result.rowcount > 0

    def authenticate(self, login: str, password: str) -> Account | None:
        """The active account whose password matches, else None; the same argon2 work either way."""
        dummy = self._dummy_hash()  # before the lookup: the first attempt costs the same for every login
        with self.engine.connect() as conn:
            row = conn.execute(select(self.table).where(self.table.c.login == login)).first()
        stored = row._mapping["password_hash"] if row is not None else None
        try:
            self.hasher.verify(stored or dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or stored is None or not row._mapping["active"]:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self.engine.begin() as conn:
                conn.execute(update(self.table).where(self.table.c.user_id == row._mapping["user_id"])
                             .values(password_hash=self.hasher.hash(password)))
        return self._account(row)

    def provision_external(self, subject: str, login: str, agency: str, role: str, email: str | None) -> Account:
        """Create or update the account of an OIDC subject (agency/role/email follow the identity provider)."""
        self._check(agency, role)
        t = self.table
        with self.engine.begin() as conn:
            row = conn.execute(select(t).where(t.c.external_subject == subject)).first()
            if row is None:
                if conn.execute(select(t.c.user_id).where(t.c.login == login)).first():
                    login = f"{login}#{uuid.uuid4().hex[:6]}"
                values = {"user_id": str(uuid.uuid4()), "login": login, "agency": agency, "role": role,
                          "email": email, "password_hash": None, "external_subject": subject, "active": True,
                          "created_at_ms": int(time.time() * 1000)}
                conn.execute(insert(t).values(**values))
                return self._account(values)
            conn.execute(update(t).where(t.c.external_subject == subject).values(agency=agency, role=role,
                                                                                email=email))
            row = conn.execute(select(t).where(t.c.external_subject == subject)).first()
        assert row is not None
        return self._account(row)


def cheap_hasher() -> PasswordHasher:
    """The cheapest argon2 parameters, for tests only (a default hash takes ~0.7 s here)."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
