"""`eahub policy ...`: the policy author's tools of `eahub.policy.cli` (test, check, explain), plus the commands
that need the whole hub: break-glass reads the ledger and the original message and publishes through the
router's outputs, so it is composed here."""

from __future__ import annotations

import sys
import uuid

import click

from eahub.policy.cli import policy

__all__ = ["policy"]


@policy.command("override")
@click.option("--event", "event_id", required=True, help="the event whose refusal is to be set aside")
@click.option("--recipient", required=True, help="the agency to receive it")
@click.option("--role", required=True, help="your designated break-glass role")
@click.option("--actor", required=True, help="who you are (an id such as a collar or staff number, not a name)")
@click.option("--justification", required=True, help="why the share is needed now (mandatory)")
def override_command(event_id: str, recipient: str, role: str, actor: str, justification: str) -> None:
    """Break-glass: share one refused event with one recipient, marked as an override for IG review.

    Exit 0 when the share happened; 1 when the policy refused the override (the attempt is audited);
    2 when the override cannot be attempted (also audited); 3 when the engine or broker cannot answer now."""
    from eahub.core.settings import HubSettings
    from eahub.hub.break_glass import BreakGlass
    from eahub.policy.break_glass import BreakGlassRequest, OverrideError, OverrideUnavailable

    service = BreakGlass(HubSettings())
    try:
        outcome = service.request(BreakGlassRequest(event_id=event_id, recipient=recipient,
                                                    justification=justification, role=role, actor=actor,
                                                    requester_agency=None, request_id=str(uuid.uuid4())))
    except OverrideError as exc:
        click.echo(f"override not attempted: {exc}", err=True)
        sys.exit(2)
    except OverrideUnavailable as exc:
        click.echo(f"override not attempted: {exc}", err=True)
        sys.exit(3)
    finally:
        service.close()
    verdict = "GRANTED: shared with" if outcome.granted else "REFUSED: nothing shared with"
    click.echo(f"{verdict} {outcome.recipient} (event {outcome.event_id}, decision {outcome.decision_id})")
    for reason in outcome.reasons:
        click.echo(f"  reason: {reason}")
    if outcome.granted:
        click.echo(f"  case {outcome.case_id} is on eahub.board.{outcome.recipient}; the override awaits IG review "
                   "(eahub audit query --overrides-pending)")
    sys.exit(0 if outcome.granted else 1)
