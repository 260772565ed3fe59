"""`eahub token|publish|generate`: the ingest commands (registered lazily in eahub.cli).

Exit codes: 0 success; 1 a clear error (unknown agency, unknown token id) or, for `publish`, at least
one event rejected (the valid ones are still published); 2 usage error; 3 `publish` stopped because
the broker did not acknowledge (events after the last "published" line were not confirmed)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import click

from eahub.core.messages import DeliveryFailed
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.ingest.tokens import TokenStore, UnknownAgency

EXIT_REJECTED, EXIT_BROKER = 1, 3
DEFAULT_START = datetime(2020, 1, 6, tzinfo=UTC)  # a Monday; fixed so that a seed always gives the same events


@click.group()
def token() -> None:
    """Bearer tokens for the ingest HTTP API, one or more per agency (stored only as hashes)."""


@token.command("issue")
@click.option("--agency", required=True, help="registry id of the agency, e.g. lancashire-police")
@click.option("--role", default=None,
              help="a break-glass role for POST /v1/overrides (must be designated in the policy data to be granted)")
def token_issue(agency: str, role: str | None) -> None:
    """Issue a new token; it is printed once, alone on the last line."""
    settings = HubSettings()
    store = TokenStore.in_data_dir(settings.data_dir)
    try:
        info, secret = store.issue(agency, agency_ids(settings.policies_dir), role=role)
    except UnknownAgency as exc:
        raise click.ClickException(str(exc)) from None
    with_role = f" with role {role}" if role else ""
    click.echo(f"issued {info.token_id} for {agency}{with_role}; only its SHA-256 hash is kept in {store.path}.")
    click.echo("Send it as 'Authorization: Bearer <token>'. It is shown once:")
    click.echo(secret)


@token.command("list")
def token_list() -> None:
    """List tokens: ids, agencies and creation times (no secrets)."""
    store = TokenStore.in_data_dir(HubSettings().data_dir)
    for info in store.all():
        click.echo(f"{info.token_id}\t{info.agency}\t{info.created_at}\t{info.role or '-'}")


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id (see `eahub token list`); effective immediately."""
    if not TokenStore.in_data_dir(HubSettings().data_dir).revoke(token_id):
        raise click.ClickException(f"no token with id {token_id!r}")
    click.echo(f"revoked {token_id}")


@click.command()
@click.option("--agency", required=True, help="the publishing agency (each event's source_agency)")
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True, dir_okay=False))
def publish(agency: str, files: tuple[str, ...]) -> None:
    """Validate and publish concern events straight to eahub.inbound.<AGENCY>.

    Each FILE holds a JSON object, a JSON array of objects, or JSON lines; '-' reads stdin. Prints one
    line per event: its id and 'published', or where it was and its field errors."""
    from eahub.ingest.producer import ConcernProducer

    try:
        producer = ConcernProducer(HubSettings(), agency)
    except UnknownAgency as exc:
        raise click.ClickException(str(exc)) from None
    items = [item for path in files for item in _read_items(path)]
    results = producer.publish_many(obj for _, obj, error in items if error is None)
    rejected = 0
    try:
        for label, _, error in items:
            if error is not None:
                click.echo(f"{label} rejected: {error}")
                rejected += 1
                continue
            result = next(results)
            if result.ok:
                notes = "".join(f" (warning: {w})" for w in result.warnings)
                click.echo(f"{result.event_id} published{notes}")
            else:
                click.echo(f"{label} rejected: " + "; ".join(str(e) for e in result.errors))
                rejected += 1
    except DeliveryFailed as exc:
        click.echo(f"stopped: the broker did not acknowledge ({exc})", err=True)
        sys.exit(EXIT_BROKER)
    finally:
        producer.close()
    if rejected:
        click.echo(f"{rejected} of {len(items)} event(s) rejected", err=True)
        sys.exit(EXIT_REJECTED)


def _read_items(path: str) -> Iterator[tuple[str, Any, str | None]]:
    """(label, parsed object, parse error) for each event of a file: one JSON object, a JSON array of them, or
    JSON lines. Read with the hub's one strict JSON reader, so a file is judged as `POST /v1/events` judges a
    body; one bad line (or element) is reported and the others still go."""
    from eahub.core.json_reader import JsonRejected, strict_loads

    name = "<stdin>" if path == "-" else path
    with click.open_file(path, "rb") as fh:
        data = fh.read()
    try:
        whole = strict_loads(data)
    except JsonRejected as whole_error:
        lines = data.splitlines()
        if len([ln for ln in lines if ln.strip()]) <= 1:
            yield name, None, f"not valid JSON ({whole_error})"
            return
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                yield f"{name}:{n}", strict_loads(line), None
            except JsonRejected as exc:
                yield f"{name}:{n}", None, f"not valid JSON ({exc})"
        return
    for n, obj in enumerate(whole if isinstance(whole, list) else [whole], 1):
        yield f"{name}#{n}", obj, None


@click.command()
@click.option("--count", type=click.IntRange(min=0), help="how many events (default: all of --days)")
@click.option("--seed", type=int, default=0, show_default=True, help="the same seed gives the same events")
@click.option("--start", help="ISO-8601 time of the first event's window (default: Monday 2020-01-06T00:00Z, "
                              "fixed, so the same seed and count give the same events on every run)")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), help="spread them over about D days")
def generate(count: int | None, seed: int, start: str | None, days: float | None) -> None:
    """Print synthetic concern events (made-up people) as JSON lines, accepted by the API and publish."""
    from eahub.core.event_json import parse_time
    from eahub.ingest.generator import default_span
    from eahub.ingest.generator import generate as events

    if count is None and days is None:
        raise click.UsageError("give --count, --days, or both")
    if start is None:
        begin = DEFAULT_START
        if begin + default_span(count, days) > datetime.now(UTC):
            raise click.UsageError("that many events from the default start would reach the future: give --start")
    else:
        parsed = parse_time(start) or parse_time(start + "T00:00:00Z")
        if parsed is None:
            raise click.BadParameter("must be ISO-8601 with a UTC offset, e.g. 2026-11-20T00:00:00Z",
                                     param_hint="--start")
        begin = parsed
    out = click.get_text_stream("stdout")
    for event in events(count, seed, begin, days):
        out.write(json.dumps(event, separators=(",", ":")) + "\n")
