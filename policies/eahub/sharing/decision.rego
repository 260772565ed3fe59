# METADATA
# title: Early Action Hub sharing decisions
# description: |
#   Who may receive a concern event, under which ISA and lawful basis, and which of its fields.
#
#   Input (one request):  {"event": <policy facts of a ConcernEvent>, "today": "YYYY-MM-DD",
#                          "override": null | {"recipient", "role", "actor", "justified"}}
#   Batch input:          {"requests": [<request>, ...]}  ->  data.eahub.sharing.batch
#
#   The event facts are the policy-relevant part of the event only (source_agency, category, grade,
#   security_marking, risk_factors codes, consent.status, restricted_to, subject_age_band, and the role and
#   age band of each linked person): no personal value (no name, no date) ever reaches the policy engine.
#
#   Data: data.hub.agencies (id -> agency), data.hub.isas, data.hub.rules, data.hub.schema (field
#   classification by personal-data kind, derived from schemas/ when the bundle loads) and
#   data.hub.risk_factors (the controlled vocabulary of risk-factor codes, from schemas/risk_factors.json).
#   data.hub.shares (what each recipient receives under each ISA, and under break-glass; the `routes`: the
#   ISAs between each source and recipient, by category and age band; the `plans`: for each source, category
#   and age band, the static part of every candidate's answer; the `answers` documents) is derived from
#   these by `shares` (shares.rego) once, when the bundle loads: an evaluation looks up its plan and adds
#   only what the event's other facts (day, linked people, consent, marking, restriction, risk factors,
#   override) change.
#   Rules whose name starts with `_` are internal: only `decision`, `batch` and `shares` are entrypoints.
package eahub.sharing

import rego.v1

# METADATA
# title: One decision per request of a batch, in order
# entrypoint: true
batch := [d | some req in input.requests; d := decision with input as req]

# METADATA
# title: One structured decision per event
# description: every registered agency except the source, shared or refused, each with its reasons
# entrypoint: true
decision := {"recipients": [{
	"agency": p.agency,
	"shared": a.shared,
	"isa_id": a.isa_id,
	"isa_version": a.isa_version,
	"lawful_basis": a.lawful_basis,
	"purpose": a.purpose,
	"fields_shared": a.fields_shared,
	"fields_withheld": a.fields_withheld,
	"reasons": array.concat(array.concat(sort(refusals), share_notes), override_notes),
	"override": a.override,
} |
	# Computed inline, once per candidate: a function call costs the engine more than the work it does here;
	# so does an index or a call inside another index (regorus): each is bound to a variable first.
	some p in plans
	dated := [e | some e in p.covering; e.valid_from <= today; today <= e.valid_to] # in force
	applicable := [e |
		some e in dated
		count([1 | e.age_ok]) + count([1 | some role in e.linked_adult_roles; role in ev.adult_roles]) > 0
	]
	governing := array.concat(applicable, [p.no_isa])
	g := governing[0] # the smallest id (data validation forbids two versions of one ISA in force on one day)
	conditions := {c | ev.refused; g.key != null; some c in _risk_conditions(consent_overrides[g.key])}
	binding := union({ # what no break-glass sets aside
		{msg | some msg in ev.originator; not p.agency in ev.restricted_to},
		{msg | ev.sensitive; some msg in p.marking},
		vocabulary,
	})
	refusals := union({
		binding,
		{msg | some msg in p.children},
		{msg | count(applicable) == 0; some msg in _isa_refusals(p, dated)},
		{msg | ev.refused; g.key != null; count(conditions) == 0; msg := _consent_refusal(g.key)},
		{msg | some msg in g.basis_refusals}, # the ISA states no lawful basis for the recipient's kind
	})
	consent := [msg | count(refusals) == 0; g.key != null; some msg in _consent_notes(conditions)]
	shared := count(consent) > 0
	r := p.agency
	override := [o | some o in ev.override; o.recipient == r] # the break-glass asked for this recipient
	overridden := count([o | some o in override; _overridden(o, refusals, binding)]) > 0
	by_isa := answers[r]
	ref := g.answers
	by_kind := by_isa[ref]
	kinds_when := kinds[shared]
	kind := kinds_when[overridden]
	a := by_kind[kind]
	share_notes := [msg | shared; some msg in sort(array.concat(consent, g.notes))]
	override_notes := [msg | some o in override; some msg in sort(_override_notes(o, refusals, binding))]
]} if {
	# Bound once: a rule is looked up again at every reference.
	ev := _event_facts
	today := input.today
	plans := _planned
	answers := data.hub.shares.answers
	consent_overrides := data.hub.shares.consent_overrides
	vocabulary := _vocabulary_refusals
	kinds := _answer_kind
}

_hub := data.hub

_event := input.event

_source := _event.source_agency

_band := _event.subject_age_band

# Every candidate (registered agency except the source), in order, with the static part of its answer: the
# ISAs covering the category for the subject's band (`covering`, ordered by id: the first in force that
# covers the subject governs, else `no_isa`), and the refusals no other fact changes. As planned when the
# bundle loaded, or planned now for a source or category the data does not name.
_planned := p if {
	by_category := data.hub.shares.plans[_source]
	by_band := by_category[_event.category]
	p := by_band[_band]
} else := _plans(_source, _event.category, _band, object.get(_hub.shares.routes, _source, {}))

# What a candidate's answer reads of the event, computed once per evaluation. An ISA may give a recipient a
# case outside its age bands for a purpose it names: a linked adult (e.g. adult social care for an adult in
# a child's household; `adult_roles`). A linked person recorded as a child does not count, whatever the
# role; an unknown age counts by the role.
_event_facts := {
	"adult_roles": {p.role | some p in _event.linked_people; p.age_band != "child"},
	"refused": _event.consent.status == "REFUSED",
	"sensitive": _event.security_marking == "OFFICIAL_SENSITIVE",
	"originator": [msg | msg := _originator_refusal],
	"restricted_to": [r | is_array(_event.restricted_to); some r in _event.restricted_to],
	"override": [o | o := input.override; o != null],
}

# A share, else a refusal set aside by break-glass, else a refusal (which names the agreement considered).
_answer_kind := {true: {false: "shared"}, false: {true: "overridden", false: "refused"}}

# ---------------------------------------------------------------- the governing agreement

# Which of the agreement's steps fails, when none applies: no ISA between the two, none for the category
# (the plan's `uncovered`), none in force on the day, none for the subject's age.
_isa_refusals(p, dated) := {p.uncovered} if {
	p.uncovered != null
} else := {msg |
	some e in p.covering
	msg := sprintf(
		"ISA %s v%s is not in force on %s (valid %s to %s)",
		[e.id, e.version, input.today, e.valid_from, e.valid_to],
	)
} if {
	count(dated) == 0
} else := {msg} if {
	ids := concat(", ", sort({e.key | some e in dated}))
	msg := sprintf(
		"%s: no ISA in force gives %s this case for that age (considered: %s)",
		[_band_words[_band], p.agency, ids],
	)
} else := set()

_band_words := {
	"child": "the subject is a child (under 18 when the event occurred)",
	"adult": "the subject is an adult",
	"unknown": "the subject's age is unknown (no date of birth), so the case is not treated as an adult's",
}

# ---------------------------------------------------------------- refusals, each with its reason

# Originator control: only the agencies the source restricted the event to receive it.
_originator_refusal := sprintf(
	"originator control: %s restricted this event to %s",
	[_source, concat(", ", sort(_event.restricted_to))],
) if is_array(_event.restricted_to)

_consent_refusal(key) := sprintf(
	"consent refused by the subject, and no risk condition of ISA %s applies (child at risk, serious harm)",
	[key],
)

# Fail closed: a code outside the controlled vocabulary cannot be classified, so nothing is shared (to any
# recipient: computed once per event).
_vocabulary_refusals := {msg |
	unknown := {c | some c in _event.risk_factors; not _hub.risk_factors[c]}
	unknown != set()
	msg := sprintf("risk factor codes not in the controlled vocabulary: %s", [concat(", ", sort(unknown))])
}

# The ISA's risk conditions met by this event, in plain words; each overrides refused consent (so they are
# only looked for when consent was refused).
_risk_conditions(conditions) := _child_at_risk(conditions) | _serious_harm(conditions)

_child_at_risk(conditions) := {msg |
	cond := conditions.child_at_risk
	_event.category in cond.categories
	msg := sprintf("child at risk (category %s)", [_event.category])
} | {msg |
	cond := conditions.child_at_risk
	_band in cond.subject_age_bands
	msg := "child at risk (the subject is under 18)"
} | {msg |
	cond := conditions.child_at_risk
	roles := {p.role | some p in _event.linked_people} & {x | some x in cond.linked_roles}
	roles != set()
	msg := sprintf("child at risk (linked people: %s)", [concat(", ", sort(roles))])
} | {msg |
	cond := conditions.child_at_risk
	"child" in cond.subject_age_bands
	roles := {p.role | some p in _event.linked_people; p.age_band == "child"}
	roles != set()
	msg := sprintf("child at risk (a linked person under 18: %s)", [concat(", ", sort(roles))])
}

_serious_harm(conditions) := {msg |
	cond := conditions.serious_harm
	factors := {f | some f in _event.risk_factors} & {x | some x in cond.risk_factors}
	factors != set()
	msg := sprintf("serious harm (risk factors: %s)", [concat(", ", sort(factors))])
}

# The note on a share of the consent position and, when consent was refused, which risk condition applies
# (the plan holds its other notes): none for a consent status it has no words for (nothing is then shared).
_consent_notes(conditions) := [msg] if {
	_event.consent.status == "REFUSED"
	conditions_met := concat("; ", sort(conditions))
	msg := sprintf("consent refused; shared because the ISA's risk condition applies: %s", [conditions_met])
} else := [msg | msg := sprintf("consent %s", [_consent_words[_event.consent.status]])]

_consent_words := {
	"GIVEN": "given by the subject",
	"NOT_SOUGHT": "not sought: sharing rests on the lawful basis, not on consent",
	"NOT_REQUIRED": "not required: sharing rests on the lawful basis",
}

# ---------------------------------------------------------------- break-glass

# `o`: the override asked for the recipient; `binding`: the refusals no break-glass sets aside (the
# originator's own restriction, the security marking, risk factors that cannot be classified).
_designated(o) if o.role in _hub.rules.break_glass.roles

# The engine is told only that a justification was given, never its text (it may name people).
_justified(o) if o.justified == true

_overridden(o, refusals, binding) if {
	count(refusals) > 0
	count(binding) == 0
	_designated(o)
	_justified(o)
}

_override_notes(o, refusals, binding) := union({
	_override_applied(o, refusals, binding),
	_override_not_designated(o, refusals),
	_override_unjustified(o, refusals),
	_override_bound(binding),
	_override_needless(refusals),
})

_override_applied(o, refusals, binding) := {msg |
	_overridden(o, refusals, binding)
	msg := sprintf(
		"break-glass override by %s (role %s): refusal set aside for this event; queued for IG review",
		[o.actor, o.role],
	)
}

_override_not_designated(o, refusals) := {msg |
	count(refusals) > 0
	not _designated(o)
	msg := sprintf("break-glass override refused: role %s is not a designated break-glass role", [o.role])
}

_override_unjustified(o, refusals) := {msg |
	count(refusals) > 0
	_designated(o)
	not _justified(o)
	msg := "break-glass override refused: a justification is mandatory"
}

_override_bound(binding) := {msg |
	count(binding) > 0
	msg := "break-glass override refused: originator control and OFFICIAL-SENSITIVE clearance cannot be set aside"
}

_override_needless(refusals) := {msg |
	count(refusals) == 0
	msg := "break-glass override not needed: already shared under an ISA"
}
