"""The console's composition root: settings in, the app and its runners out (its tables: `init.py`);
`start_console` runs the web app and the scheduled verification in threads (for `eahub up`, `eahub demo` and the
browser tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from fastapi import FastAPI

from eahub.audit.bootstrap import AuditParts, open_audit
from eahub.audit.console.erase import Publish
from eahub.audit.console.integrity import Integrity
from eahub.audit.console.settings import ConsoleSettings
from eahub.audit.console.web.accounts import console_shell
from eahub.audit.console.web.app import create_console_app
from eahub.audit.console.web.context import Console
from eahub.audit.settings import AuditSettings
from eahub.audit.verified_state import STATE_FILE
from eahub.core.logging import get_logger
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.runner import ServiceThreads
from eahub.core.settings import HubSettings
from eahub.core.web.serving import serve_until, wait_listening
from eahub.core.web.shell import Shell

log = get_logger("eahub.audit.console")


@dataclass
class ConsoleApp:
    app: FastAPI
    shell: Shell
    console: Console

    @property
    def settings(self) -> ConsoleSettings:
        return self.console.settings

    @property
    def url(self) -> str:
        return self.settings.public_url

    def runners(self, scheduled_verification: bool = True) -> dict[str, Callable[[threading.Event], None]]:
        """The web app and the scheduled verification, each until the stop event is set."""
        s = self.settings
        runners: dict[str, Callable[[threading.Event], None]] = {
            "console-web": lambda stop: serve_until(self.app, s.http_host, s.http_port, stop)}
        if scheduled_verification:
            runners["console-verify"] = self.console.integrity.runner(s.verify_interval_seconds)
        return runners


def build_console(settings: HubSettings, console_settings: ConsoleSettings | None = None,
                  audit_settings: AuditSettings | None = None, hasher: PasswordHasher | None = None,
                  publish: Publish | None = None, parts: AuditParts | None = None) -> ConsoleApp:
    console_settings = console_settings or ConsoleSettings()
    parts = parts or open_audit(settings, audit_settings)
    shell = console_shell(console_settings, parts.engine, hasher)
    integrity = Integrity(parts.engine, parts.checkpointer, state_path=settings.data_dir / STATE_FILE)
    console = Console(parts, Pseudonymiser.from_data_dir(settings.data_dir), integrity, console_settings,
                      settings.policies_dir, publish)
    return ConsoleApp(create_console_app(shell, console), shell, console)


@dataclass
class RunningConsole:
    web: ConsoleApp
    services: ServiceThreads = field(default_factory=ServiceThreads)

    @property
    def url(self) -> str:
        return self.web.url

    def shutdown(self, timeout_s: float = 10) -> None:
        self.services.stop.set()
        self.services.join(timeout_s)


def start_console(settings: HubSettings, console_settings: ConsoleSettings | None = None,
                  audit_settings: AuditSettings | None = None, hasher: PasswordHasher | None = None,
                  publish: Publish | None = None, scheduled_verification: bool = True) -> RunningConsole:
    """Run the console web app (and the scheduled verification) in threads; returns once the server accepts
    connections. Call `.shutdown()` to stop. Tables must exist (`init_console`)."""
    web = build_console(settings, console_settings, audit_settings, hasher, publish)
    running = RunningConsole(web)
    s = web.settings
    for name, runner in web.runners(scheduled_verification).items():
        running.services.start(name, runner)
    wait_listening(s.http_host, s.http_port, "the IG console")
    log.info("console.started", url=web.url)
    return running
