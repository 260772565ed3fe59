"""Early Action boards (`eahub.board`): each agency's board over the cases routed to `eahub.board.<agency>`,
with Grade 2/3 SLA timers and escalation; every view and action audited (CONSULTATION and ACTION entries).

Not built yet: the routed cases (with their `due_by` times) and the audit kinds the boards will emit are in
place, and `eahub.audit.queries` is ready to back the IG views."""
