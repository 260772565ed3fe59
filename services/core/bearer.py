"""Bearer-token authentication for the hub's machine-facing HTTP APIs (RFC 6750): read the token from the
Authorization header and answer 401 problem details when it is missing or unknown. Which tokens exist and what
they grant is the service's own business (`lookup`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.responses import JSONResponse

from eahub.core.errors import FieldError
from eahub.core.problem_details import problem

T = TypeVar("T")


class Unauthenticated(Exception):
    """No usable bearer token; `response` is the 401 to send."""

    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def authenticate(authorization: str | None, lookup: Callable[[str], T | None], realm: str = "eahub",
                 how: str = "send Authorization: Bearer <token>") -> T:
    """What `lookup` knows of the presented token; raises Unauthenticated (401) otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(problem(401, "unauthenticated", "Authentication required", how,
                                      [FieldError("Authorization", "missing or not a bearer token")],
                                      headers={"WWW-Authenticate": f'Bearer realm="{realm}"'}))
    found = lookup(token.strip())
    if found is None:
        raise Unauthenticated(problem(401, "unauthenticated", "Unknown token", "the bearer token is unknown or revoked",
                                      [FieldError("Authorization", "unknown or revoked token")],
                                      headers={"WWW-Authenticate": f'Bearer realm="{realm}", error="invalid_token"'}))
    return found
