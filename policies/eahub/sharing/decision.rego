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
#   data.hub.shares (what each recipient receives under each ISA, and under break-glass, and the `routes`:
#   the ISAs between each source and recipient, by category and age band) is derived from these by `shares`
#   (shares.rego) once, when the bundle loads: an evaluation only looks it up.
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
decision := {"recipients": [_recipient_decision(_facts_by[r]) | some r in sort(_candidates)]}

_hub := data.hub

_event := input.event

_source := _event.source_agency

_band := _event.subject_age_band

_candidates contains id if {
	some id, _ in _hub.agencies
	id != _source
}

# What a recipient's decision rests on, computed once per recipient per evaluation (a function with
# arguments is evaluated again on every call; a rule's value is kept): the governing agreement and its
# share, the refusals, and the ISA's risk conditions met when consent was refused.
_facts_by[r] := facts if {
	some r in _candidates
	agency := _hub.agencies[r]
	route := _routes[r]
	covering := object.get(object.get(route.by_band, _band, route.by_category), _event.category, [])
	dated := [e | some e in covering; e.valid_from <= input.today; input.today <= e.valid_to] # in force
	applicable := [e | some e in dated; _age_covered(e)]
	governing := _governing(applicable, r)
	has_isa := count(applicable) > 0
	conditions := _risk_conditions(governing.consent_override)
	refusals := union({
		_isa_refusals(r, route, covering, dated, applicable),
		_originator_refusals(r),
		_children_refusals(agency),
		_marking_refusals(agency),
		_consent_refusals(governing.key, has_isa, conditions),
		{msg | some msg in governing.basis_refusals}, # the ISA states no lawful basis for the recipient's kind
		_vocabulary_refusals,
	})
	facts := {
		"agency": r,
		"id": governing.id,
		"version": governing.version,
		"share": governing.share,
		"refusals": refusals,
		"conditions": conditions,
	}
}

# A share under the governing ISA; else a refusal set aside by break-glass; else a refusal, which shares
# nothing and names the agreement considered, if any (a break-glass override applies only to a refusal).
_recipient_decision(f) := d if {
	count(f.refusals) == 0
	d := {
		"agency": f.agency,
		"shared": true,
		"isa_id": f.id,
		"isa_version": f.version,
		"lawful_basis": f.share.lawful_basis,
		"purpose": f.share.purpose,
		"fields_shared": f.share.fields_shared,
		"fields_withheld": f.share.fields_withheld,
		"reasons": array.concat(sort(_share_notes(f)), sort(_override_notes(f))),
		"override": false,
	}
} else := d if {
	_overridden(f)
	d := {
		"agency": f.agency,
		"shared": true,
		"isa_id": f.id,
		"isa_version": f.version,
		"lawful_basis": f.share.override_lawful_basis,
		"purpose": _hub.rules.break_glass.purpose,
		"fields_shared": f.share.override_fields,
		"fields_withheld": f.share.override_withheld,
		"reasons": array.concat(sort(f.refusals), sort(_override_notes(f))),
		"override": true,
	}
} else := {
	"agency": f.agency,
	"shared": false,
	"isa_id": f.id,
	"isa_version": f.version,
	"lawful_basis": null,
	"purpose": null,
	"fields_shared": [],
	"fields_withheld": _hub.shares.all_leaves,
	"reasons": array.concat(sort(f.refusals), sort(_override_notes(f))),
	"override": false,
}

# ---------------------------------------------------------------- the governing agreement

_kind(r) := _hub.agencies[r].kind

# The ISAs that name both the source and a recipient as parties and give the recipient an allow-list, as
# data.hub.shares.routes holds them (shares.rego): each {"id", "version", "key", "valid_from", "valid_to",
# "bands", "linked_adult_roles", "consent_override", "basis_refusals", "share"}, and those that cover the
# event's category for its subject's age band. A source that is no registered agency has none.
_routes := object.get(_hub.shares.routes, _source, {r: _no_route | some r in _candidates})

_no_route := {"party": [], "party_ids": "", "by_category": {}, "by_band": {}}

# The subjects a recipient receives under an ISA (`bands`: its own list, else the ISA's).
_age_covered(e) if _band in e.bands

# An ISA may give a recipient a case outside its age bands for a purpose it names: a linked adult
# (e.g. adult social care for an adult in a child's household). A linked person recorded as a child
# does not count, whatever the role; an unknown age counts by the role.
_age_covered(e) if {
	some p in _event.linked_people
	p.age_band != "child"
	p.role in e.linked_adult_roles
}

# When several agreements apply, the one with the smallest id governs (data validation forbids two
# versions of one ISA in force on the same day). Lawful basis, purpose and fields are stated for a share
# (shares.rego); under no ISA, only the break-glass share is.
_governing(applicable, r) := e if {
	some e in applicable
	e.id == min({x.id | some x in applicable})
} else := {
	"id": null,
	"version": null,
	"key": null,
	"consent_override": {},
	"basis_refusals": [],
	"share": _hub.shares.no_isa[r],
}

# Which of the agreement's steps fails, if one does: no ISA between the two, none for the category, none in
# force on the day, none for the subject's age.
_isa_refusals(r, route, covering, dated, applicable) := set() if {
	count(applicable) > 0
} else := {msg} if {
	count(route.party) == 0
	msg := sprintf("no information sharing agreement provides for %s to share with %s", [_source, r])
} else := {msg} if {
	count(covering) == 0
	msg := sprintf(
		"category %s is not covered by any ISA between %s and %s (considered: %s)",
		[_event.category, _source, r, route.party_ids],
	)
} else := {msg |
	some e in covering
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
		[_band_words[_band], r, ids],
	)
} else := set()

_band_words := {
	"child": "the subject is a child (under 18 when the event occurred)",
	"adult": "the subject is an adult",
	"unknown": "the subject's age is unknown (no date of birth), so the case is not treated as an adult's",
}

# ---------------------------------------------------------------- refusals, each with its reason

_originator_refusals(r) := {msg |
	is_array(_event.restricted_to)
	not r in _event.restricted_to
	msg := sprintf(
		"originator control: %s restricted this event to %s",
		[_source, concat(", ", sort(_event.restricted_to))],
	)
}

# Hub-wide: a children's concern goes only to the agencies of child protection, whatever an ISA says.
_children_refusals(agency) := {msg |
	_event.category in _hub.rules.children_categories
	not agency.kind in _hub.rules.children_concern_recipient_kinds
	kinds := concat(", ", _hub.rules.children_concern_recipient_kinds)
	msg := sprintf(
		"children's concerns (%s) go only to %s; %s is %s",
		[_event.category, kinds, agency.id, agency.kind],
	)
}

_marking_refusals(agency) := {msg |
	_event.security_marking == "OFFICIAL_SENSITIVE"
	not agency.cleared_official_sensitive
	msg := sprintf("the event is marked OFFICIAL-SENSITIVE and %s is not cleared for it", [agency.id])
}

_consent_refusals(key, has_isa, conditions) := {msg |
	_event.consent.status == "REFUSED"
	has_isa
	conditions == set()
	msg := sprintf(
		"consent refused by the subject, and no risk condition of ISA %s applies (child at risk, serious harm)",
		[key],
	)
}

# Fail closed: a code outside the controlled vocabulary cannot be classified, so nothing is shared (to any
# recipient: computed once per event).
_vocabulary_refusals := {msg |
	unknown := {c | some c in _event.risk_factors; not _hub.risk_factors[c]}
	unknown != set()
	msg := sprintf("risk factor codes not in the controlled vocabulary: %s", [concat(", ", sort(unknown))])
}

# The ISA's risk conditions met by this event, in plain words; each overrides refused consent (so they are
# only looked for when consent was refused).
_risk_conditions(conditions) := _child_at_risk(conditions) | _serious_harm(conditions) if {
	_event.consent.status == "REFUSED"
} else := set()

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

# Notes on a share: the consent position and, when consent was refused, which risk condition applies.
_share_notes(f) := notes if {
	shared := {sprintf("shared under ISA %s v%s for category %s", [f.id, f.version, _event.category])}
	kinds := {msg | some msg in f.share.kind_notes} # special-category fields its kind may not have
	notes := ((shared | _consent_notes(f)) | kinds) | _age_notes
}

_age_notes := {sprintf("subject age band: %s", [_band])}

_consent_notes(f) := {msg} if {
	_event.consent.status == "REFUSED"
	conditions := concat("; ", sort(f.conditions))
	msg := sprintf("consent refused; shared because the ISA's risk condition applies: %s", [conditions])
} else := {sprintf("consent %s", [_consent_words[_event.consent.status]])}

_consent_words := {
	"GIVEN": "given by the subject",
	"NOT_SOUGHT": "not sought: sharing rests on the lawful basis, not on consent",
	"NOT_REQUIRED": "not required: sharing rests on the lawful basis",
}

# ---------------------------------------------------------------- break-glass

_override_for(r) := o if {
	o := input.override
	o != null
	o.recipient == r
}

_designated(o) if o.role in _hub.rules.break_glass.roles

# The engine is told only that a justification was given, never its text (it may name people).
_justified(o) if o.justified == true

# Refusals no break-glass can set aside: the originator's own restriction, the security marking, and an
# event whose risk factors cannot be classified.
_binding_refusals(r) := (_originator_refusals(r) | _marking_refusals(_hub.agencies[r])) | _vocabulary_refusals

_overridden(f) if {
	o := _override_for(f.agency) # first: without an override for the recipient, nothing else here is evaluated
	count(f.refusals) > 0
	count(_binding_refusals(f.agency)) == 0
	_designated(o)
	_justified(o)
}

_override_notes(f) := union({
	_override_applied(f),
	_override_not_designated(f),
	_override_unjustified(f),
	_override_bound(f),
	_override_needless(f),
}) if input.override != null else := set()

_override_applied(f) := {msg |
	_overridden(f)
	o := _override_for(f.agency)
	msg := sprintf(
		"break-glass override by %s (role %s): refusal set aside for this event; queued for IG review",
		[o.actor, o.role],
	)
}

_override_not_designated(f) := {msg |
	o := _override_for(f.agency)
	count(f.refusals) > 0
	not _designated(o)
	msg := sprintf("break-glass override refused: role %s is not a designated break-glass role", [o.role])
}

_override_unjustified(f) := {msg |
	o := _override_for(f.agency)
	count(f.refusals) > 0
	_designated(o)
	not _justified(o)
	msg := "break-glass override refused: a justification is mandatory"
}

_override_bound(f) := {msg |
	_override_for(f.agency)
	count(_binding_refusals(f.agency)) > 0
	msg := "break-glass override refused: originator control and OFFICIAL-SENSITIVE clearance cannot be set aside"
}

_override_needless(f) := {msg |
	_override_for(f.agency)
	count(f.refusals) == 0
	msg := "break-glass override not needed: already shared under an ISA"
}
