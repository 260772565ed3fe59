"""Production sign-in through OpenID Connect: authorization code flow with PKCE (S256), state and nonce kept in
a server-side pre-auth session, the ID token's signature checked against the issuer's JWKS and its iss, aud,
exp and nonce validated (joserfc, Authlib's JOSE library). The agency and role come from configured claims and
must be allowed values; the account is provisioned or updated in the app's accounts table.

The pre-auth cookie is SameSite=Lax (a Strict cookie is not sent on the IdP's redirect back); it holds only the
random pre-auth session id and is deleted at the callback, which issues the normal Strict session cookie."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from eahub.core.logging import get_logger
from eahub.core.web.accounts import AccountError
from eahub.core.web.auth_routes import set_session_cookie
from eahub.core.web.problems import Problem
from eahub.core.web.shell import Shell

log = get_logger("eahub.web.oidc")
FAILED = "Sign-in through your organisation did not work. Try again, or ask your administrator."


@dataclass
class OidcSignIn:
    issuer: str
    client_id: str
    client_secret: str | None
    redirect_uri: str
    agency_claim: str
    role_claim: str
    scopes: str = "openid email profile"
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))
    _metadata: dict[str, Any] | None = None
    _jwks: KeySet | None = None

    def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            r = self.http.get(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
            r.raise_for_status()
            metadata = r.json()
            if str(metadata.get("issuer", "")).rstrip("/") != self.issuer.rstrip("/"):
                raise ValueError("the provider's metadata names another issuer")
            self._metadata = metadata
        return self._metadata

    def keys(self, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            r = self.http.get(self.metadata()["jwks_uri"])
            r.raise_for_status()
            self._jwks = KeySet.import_key_set(r.json())
        return self._jwks

    def authorization_url(self, state: str, nonce: str, verifier: str) -> str:
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
                  "scope": self.scopes, "state": state, "nonce": nonce,
                  "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
        return self.metadata()["authorization_endpoint"] + "?" + urlencode(params)

    def exchange(self, code: str, verifier: str) -> str:
        """The ID token for an authorization code."""
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": verifier, "client_id": self.client_id}
        url = self.metadata()["token_endpoint"]
        if self.client_secret:
            r = self.http.post(url, data=data, auth=httpx.BasicAuth(self.client_id, self.client_secret))
        else:
            r = self.http.post(url, data=data)
        r.raise_for_status()
        return str(r.json()["id_token"])

    def validate(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            token = jwt.decode(id_token, self.keys(), algorithms=["RS256", "ES256", "PS256"])
        except JoseError:
            token = jwt.decode(id_token, self.keys(refresh=True), algorithms=["RS256", "ES256", "PS256"])
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(time.time()), leeway=60,
            iss={"essential": True, "value": self.metadata()["issuer"]},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True}, exp={"essential": True}, nonce={"essential": True, "value": nonce})
        registry.validate(claims)
        return claims


def add_oidc_routes(app: FastAPI, shell: Shell, oidc: OidcSignIn) -> None:
    shell.oidc = oidc
    pre_cookie = shell.cookie_name + "-oidc"

    @app.get("/signin/oidc")
    def start(request: Request) -> Response:
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        pre = shell.sessions.create(None, oidc_state=state, oidc_nonce=nonce, oidc_verifier=verifier)
        try:
            url = oidc.authorization_url(state, nonce, verifier)
        except (httpx.HTTPError, ValueError):
            log.warning("web.oidc_discovery_failed")
            raise Problem(503, "oidc-unavailable", FAILED) from None
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(pre_cookie, pre.session_id, httponly=True, samesite="lax",
                            secure=shell.settings.secure_cookies, path="/signin/oidc", max_age=600)
        return response

    @app.get("/signin/oidc/callback")
    def callback(request: Request, code: str = "", state: str = "") -> Response:
        pre = shell.sessions.load(request.cookies.get(pre_cookie))
        if pre is None or not pre.oidc_state or not state or not hmac.compare_digest(state, pre.oidc_state):
            raise Problem(403, "oidc-state", FAILED, title="Sign-in failed")
        shell.sessions.delete(pre.session_id)  # single use
        try:
            claims = oidc.validate(oidc.exchange(code, pre.oidc_verifier or ""), pre.oidc_nonce or "")
        except (httpx.HTTPError, JoseError, KeyError, ValueError):
            log.warning("web.oidc_token_rejected")
            raise Problem(403, "oidc-token", FAILED, title="Sign-in failed") from None
        agency, role = claims.get(oidc.agency_claim), claims.get(oidc.role_claim)
        if not isinstance(agency, str) or not isinstance(role, str):
            raise Problem(403, "oidc-claims", FAILED, title="Sign-in failed")
        login = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        try:
            account = shell.accounts.provision_external(f"{claims['iss']}|{claims['sub']}", login, agency, role,
                                                        email)
        except AccountError:
            log.warning("web.oidc_claims_not_allowed")
            raise Problem(403, "oidc-claims", FAILED, title="Sign-in failed") from None
        if not account.active:
            raise Problem(403, "account-disabled", FAILED, title="Sign-in failed")
        session = shell.sessions.create(account.user_id)
        log.info("web.signin", user_id=account.user_id, agency=account.agency, method="oidc")
        # A page (not a redirect) so that the next navigation is same-site and carries the Strict cookie.
        response = shell.page(request, "signed_in.html", status=200, next_url=shell.home_path)
        set_session_cookie(shell, response, session)
        response.delete_cookie(pre_cookie, path="/signin/oidc")
        return response


def oidc_from_settings(shell: Shell) -> OidcSignIn | None:
    s = shell.settings
    if not s.oidc_enabled:
        return None
    assert s.oidc_issuer is not None and s.oidc_client_id is not None
    return OidcSignIn(s.oidc_issuer, s.oidc_client_id,
                      s.oidc_client_secret.get_secret_value() if s.oidc_client_secret else None,
                      s.public_url + "/signin/oidc/callback", s.oidc_agency_claim, s.oidc_role_claim,
                      s.oidc_scopes)
