"""The `eahub` command. Each subcommand lives beside the service it drives and is imported only when
used, so `eahub audit verify` does not load the web stack."""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "broker": "eahub.core.cli:broker",
    "topics": "eahub.core.cli:topics",
    "token": "eahub.ingest.cli:token",
    "publish": "eahub.ingest.cli:publish",
    "generate": "eahub.ingest.cli:generate",
    "ingest": "eahub.hub.cli:ingest",
    "router": "eahub.router.cli:router",
    "audit": "eahub.audit.cli:audit",
    "policy": "eahub.hub.policy_cli:policy",
    "init": "eahub.hub.cli:init",
    "board": "eahub.board.cli:board",
    "up": "eahub.hub.cli:up",
    "demo": "eahub.hub.cli:demo",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attr = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Early Action Hub: lawful, minimal, audited sharing of concern-for-safety events."""
