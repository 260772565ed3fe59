"""Security headers on every response. Pages are `Cache-Control: no-store` (they may show case content);
static files are immutable and cached for a year."""

from __future__ import annotations

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATIC_CACHE = "public, max-age=31536000, immutable"
PAGE_CACHE = "no-store"


def apply(headers: dict[str, str] | object, path: str, static_prefix: str = "/static/") -> None:
    """Set the headers on a Starlette MutableHeaders."""
    h: dict[str, str] = headers  # type: ignore[assignment]
    for name, value in HEADERS.items():
        h[name] = value
    h["Cache-Control"] = STATIC_CACHE if path.startswith(static_prefix) else PAGE_CACHE
