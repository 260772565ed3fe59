"""`eahub up` and `eahub demo`."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

# Only click at import: the rest (pydantic's settings, structlog...) is imported inside the commands, so that a
# Ctrl-C early in `up` or `demo` already meets their handling of it (`_stop_on_signals`).
if TYPE_CHECKING:
    from eahub.audit.console.settings import ConsoleSettings
    from eahub.board.web.settings import BoardWebSettings
    from eahub.core.settings import HubSettings
    from eahub.hub.hub import RunningHub
    from eahub.ingest.tokens import TokenInfo


def _settings(port: int | None, broker_port: int | None) -> HubSettings:
    from eahub.core.settings import HubSettings

    settings = HubSettings()
    updates = {k: v for k, v in {"http_port": port, "broker_port": broker_port}.items() if v is not None}
    return settings.model_copy(update=updates)


def _start(settings: HubSettings, stop: threading.Event, web: bool = True,
           apart: tuple[str, ...] = ()) -> RunningHub:
    """The hub, its services stopping on `stop`; `web`: with the boards and the IG console (else start them with
    `start_web_apps`)."""
    from eahub.core.broker import BrokerError
    from eahub.hub.hub import start_hub

    board: BoardWebSettings | None = None
    console: ConsoleSettings | None = None
    if web:
        from eahub.audit.console.settings import ConsoleSettings
        from eahub.board.web.settings import BoardWebSettings

        board, console = BoardWebSettings(), ConsoleSettings()
    try:
        return start_hub(settings, board=board, console=console, apart=apart, stop=stop)
    except (BrokerError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
def init() -> None:
    """Create every table of the hub (ledger, vault, ingest's and the router's records, the IG console's) and the
    boards' two databases, as the tables' owner role; the services themselves never run DDL, and `up`/`demo` do
    this on the embedded default."""
    from sqlalchemy import make_url

    from eahub.board.init import init_board
    from eahub.core.settings import HubSettings
    from eahub.hub.init import initialise

    settings = HubSettings()
    initialise(settings)
    click.echo("hub tables ready; services can now run under the role `eahub audit grants --role ROLE` prescribes")
    for what, url in zip(("board database", "board keys database"), init_board(settings), strict=True):
        click.echo(f"{what} ready: {make_url(url).render_as_string(hide_password=True)}")


@click.command()
@click.option("--port", type=int, help="HTTP port (overrides EAHUB_HTTP_PORT)")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="worker processes sharing the port (each its own publisher; idempotency shared in the database)")
def ingest(port: int | None, workers: int) -> None:
    """Serve the ingest HTTP API (POST /v1/events, POST /v1/overrides, /healthz, /docs) with uvicorn."""
    import os

    import uvicorn

    from eahub.core.logging import announce, configure_logging
    from eahub.core.settings import HubSettings
    from eahub.hub.ingest_server import FACTORY, preflight

    if port is not None:
        os.environ["EAHUB_HTTP_PORT"] = str(port)  # read again by every worker's settings
    settings = HubSettings()
    configure_logging(settings.log_format, settings.log_level)
    announce(f"ingest API on http://{settings.http_host}:{settings.http_port}/v1/events "
             f"(docs at /docs), broker {settings.bootstrap_servers}, {workers} worker process(es)")
    if workers > 1:
        preflight()
    uvicorn.run(FACTORY, factory=True, workers=workers, host=settings.http_host, port=settings.http_port,
                log_level="warning")


def _serve(hub: RunningHub, then: Callable[[], None]) -> None:
    """Do `then` (announce the started hub, start the demo's feed...) unless a stop was already asked for, run until
    Ctrl-C or SIGTERM, then stop the hub."""
    from eahub.core.runner import install_stop_signals

    install_stop_signals(hub.services.stop)  # the same event as `_stop_on_signals`'s, with a log line
    try:
        if not hub.services.stop.is_set():
            then()
        hub.services.wait()
    finally:
        click.echo("stopping...")
        hub.shutdown()
        click.echo("stopped.")
    if hub.services.failures:
        failed = "; ".join(f"{name} ({exc})" for name, exc in hub.services.failures)
        raise click.ClickException(f"stopped because a service failed: {failed} (see the log above)")


def _stop_on_signals() -> threading.Event:
    """From a command's first line on, Ctrl-C (SIGINT) and SIGTERM only set the event the hub's services will stop
    on: the start goes on and the hub is then stopped at once ("stopped.", exit 0). Never a KeyboardInterrupt in the
    middle of the start: raised in one thread's import while another thread imports, it can leave the import locks
    deadlocked; raised in some callbacks, Python drops it."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stop


def _endpoint_lines(hub: RunningHub) -> list[str]:
    return [f"  {name:<8} {where}" for name, where in hub.endpoints.items()]


# Measured with bench/bench_latency.py --shapes threads,ingest,apart --rounds 3 (see the CHANGELOG and README).
DEFAULT_APART = "ingest"
APART_DECISION = ("Default ingest only: with the router and the audit service apart too, an event's way measured "
                  "slower on the 2-core machine (Kafka, median of 3 alternated runs: publish -> first case p99 266 "
                  "against 169 ms at 100/s, 1.9 against 1.1 s at 300/s; -> ledger p99 at 300/s 4.1 against 2.0 s), "
                  "while the 202s were faster (p99 at 100/s 316 against 487 ms); bench/bench_latency.py --shapes "
                  "ingest,apart and bench/bench_ingest.py --modes up measure it again.")

_WEB_AFTER_S = 5.0  # the demo starts its boards and console at its first decision line, or after this long

port_option = click.option("--port", type=int, default=None, help="HTTP ingest port (default EAHUB_HTTP_PORT or 8080)")
broker_port_option = click.option("--broker-port", type=int, default=None,
                                  help="embedded broker port (default EAHUB_BROKER_PORT or 9092)")


@click.command()
@port_option
@broker_port_option
@click.option("--processes/--one-process", default=True, show_default=True,
              help="the services of --apart each in a process of its own (the router's policy evaluations hold the "
                   "GIL and delayed the 202s: p99 of the 202 several times lower at 100 events/s, see "
                   "bench/bench_ingest.py), or every service in one process (the hub's /metrics: on "
                   "EAHUB_METRICS_PORT, or on the ingest port)")
@click.option("--apart", "apart_names", envvar="EAHUB_UP_APART", default=DEFAULT_APART, show_default=True,
              help="which services run as processes of their own under --processes (comma-separated: ingest, "
                   "router, audit). " + APART_DECISION)
def up(port: int | None, broker_port: int | None, processes: bool, apart_names: str) -> None:
    """Run broker, ingest, router, audit, the Early Action boards and the IG console in the foreground until Ctrl-C
    or SIGTERM."""
    stop = _stop_on_signals()
    from eahub.core.logging import configure_logging

    settings = _settings(port, broker_port)
    configure_logging(settings.log_format, settings.log_level)
    if stop.is_set():
        click.echo("stopped.")
        return
    apart = tuple(n.strip() for n in apart_names.split(",") if n.strip()) if processes else ()
    unknown = set(apart) - {"ingest", "router", "audit"}
    if unknown:
        raise click.BadParameter(f"{', '.join(sorted(unknown))}: one of ingest, router, audit", param_hint="--apart")
    hub = _start(settings, stop, apart=apart)

    def describe() -> None:
        try:  # not "up" before its service processes run (a child that exits meanwhile stops the hub, naming it)
            if not hub.wait_running():
                return
        except TimeoutError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo("Early Action Hub is up:")
        for line in _endpoint_lines(hub):
            click.echo(line)

    _serve(hub, describe)


@click.command()
@port_option
@broker_port_option
@click.option("--seed", type=int, default=2026, show_default=True, help="seed of the synthetic feed")
@click.option("--minutes-per-day", type=float, default=1.0, show_default=True,
              help="real minutes per simulated day")
@click.option("--sla-time-scale", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="how much faster the boards' response clocks run (60: a Grade 2 hour passes in a minute)")
def demo(port: int | None, broker_port: int | None, seed: int, minutes_per_day: float, sla_time_scale: float) -> None:
    """`up` plus a synthetic feed, time-compressed, printing one line per decision (no personal data), with a
    demo account on every board (printed) and the boards' clocks compressed so that a breach escalates."""
    started = time.monotonic()
    stop = _stop_on_signals()
    from eahub.core.logging import configure_logging
    from eahub.core.registry import agency_ids
    from eahub.ingest.tokens import TokenStore

    settings = _settings(port, broker_port)
    configure_logging(settings.log_format, "warning" if settings.log_level == "info" else settings.log_level)
    store = TokenStore.in_data_dir(settings.data_dir)
    agencies = agency_ids(settings.policies_dir)
    issued: list[TokenInfo] = []  # the feed's own tokens, revoked on exit however the demo ends
    try:
        tokens = {}
        for agency in agencies:
            info, tokens[agency] = store.issue(agency, agencies)
            issued.append(info)
        if stop.is_set():
            click.echo("stopped.")
            return
        _demo(settings, stop, started, agencies, tokens, seed, minutes_per_day, sla_time_scale)
    finally:
        for info in issued:
            store.revoke(info.token_id)


def _demo(settings: HubSettings, stop: threading.Event, started: float, agencies: list[str], tokens: dict[str, str],
          seed: int, minutes_per_day: float, sla_time_scale: float) -> None:
    """The demo once its tokens are issued: the hub, the decision lines, the feed, then the boards and console."""
    base_url = f"http://{settings.http_host}:{settings.http_port}"
    output = threading.Lock()  # a block of lines (the accounts) is printed whole, never cut by a decision line

    def emit(*lines: str) -> None:
        with output:
            for line in lines:
                click.echo(line)

    def warn(message: str) -> None:
        with output:
            click.echo(f"! {message}", err=True)

    first_decision = threading.Event()

    def decision(line: str) -> None:
        emit(line)
        first_decision.set()

    # The decisions first. The boards and the console (importing them, building their apps and hashing the demo
    # accounts' passwords take longer than the router's start, in the same interpreter) start once the first
    # decision is out, or after a few seconds; their consumers read the board topics from the start.
    hub = _start(settings, stop, web=False)

    def run_demo() -> None:
        from eahub.core.web.serving import wait_listening
        from eahub.hub.decision_tail import follow_decisions
        from eahub.hub.demo_feed import feed
        from eahub.hub.hub import start_web_apps

        emit(f"Early Action Hub demo ({minutes_per_day:g} real minute per simulated day, about 134 events a day; "
             f"board clocks {sla_time_scale:g}x faster):", *_endpoint_lines(hub),
             "  the audit trail: eahub audit verify ;  eahub audit show --event <an event id below>",
             "  One line per decision follows (Ctrl-C to stop); the boards' and the IG console's demo accounts "
             "are printed when they are ready:")
        hub.services.start("decisions", follow_decisions(settings, decision))
        wait_listening(settings.http_host, settings.http_port, "ingest")  # the feed's first event goes at once
        hub.services.start("feed", feed(base_url, tokens, seed, 24 * 60 / minutes_per_day, warn))
        web_after = time.monotonic() + _WEB_AFTER_S
        while not first_decision.wait(0.05) and time.monotonic() < web_after:
            if stop.is_set():
                return
        from eahub.audit.console.settings import ConsoleSettings
        from eahub.audit.console.web.accounts import demo_ig_account
        from eahub.board.settings import BoardSettings
        from eahub.board.web.accounts import demo_accounts
        from eahub.board.web.settings import BoardWebSettings

        start_web_apps(hub, BoardWebSettings(), BoardSettings(time_scale=sla_time_scale), ConsoleSettings())
        lines = [f"  {name:<8} {hub.endpoints[name]}" for name in ("boards", "console") if name in hub.endpoints]
        if hub.board is not None:
            lines.append(f"  Sign in to a board at {hub.board.url} with one of these demo accounts (new passwords "
                         "each run):")
            for agency, login, password in demo_accounts(hub.board.shell.accounts, agencies):
                lines.append(f"    {agency:<24} {login:<42} {password}")
        if hub.console is not None:
            login, password = demo_ig_account(hub.console.shell.accounts)
            lines.append(f"  Sign in to the IG console at {hub.console.url} as {login} with password {password}")
        lines.append(f"  boards and console started in {time.monotonic() - started:.1f}s. A board topic:  kcat -b "
                     f"{settings.bootstrap_servers} -C -t eahub.board.lancashire-cc-adults -f '%k %h\\n'")
        emit(*lines)

    _serve(hub, run_demo)
