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
#   data.hub.shares (what each recipient receives under each ISA, and under break-glass) is derived from
#   these by `shares` (shares.rego) once, when the bundle loads: an evaluation only looks it up.
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
decision := {"recipients": [_recipient_decision(r) | some r in sort(_candidates)]}

_hub := data.hub

_event := input.event

_source := _event.source_agency

_band := _event.subject_age_band

_candidates contains id if {
	some id, _ in _hub.agencies
	id != _source
}

_recipient_decision(r) := d if {
	not _overridden(r)
	d := {
		"agency": r,
		"shared": count(_refusals(r)) == 0,
		"isa_id": _governing_isa(r).id,
		"isa_version": _governing_isa(r).version,
		"lawful_basis": _lawful_basis(r),
		"purpose": _purpose(r),
		"fields_shared": _shared_fields(r),
		"fields_withheld": _withheld_fields(r),
		"reasons": array.concat(
			sort(_refusals(r)),
			array.concat(sort(_share_notes(r)), sort(_override_notes(r))),
		),
		"override": false,
	}
}

_recipient_decision(r) := d if {
	_overridden(r)
	granted := _share(r)
	d := {
		"agency": r,
		"shared": true,
		"isa_id": _governing_isa(r).id,
		"isa_version": _governing_isa(r).version,
		"lawful_basis": granted.override_lawful_basis,
		"purpose": _hub.rules.break_glass.purpose,
		"fields_shared": granted.override_fields,
		"fields_withheld": granted.override_withheld,
		"reasons": array.concat(sort(_refusals(r)), sort(_override_notes(r))),
		"override": true,
	}
}

# ---------------------------------------------------------------- the governing agreement

_kind(r) := _hub.agencies[r].kind

# ISAs that name both the source and the recipient as parties and give the recipient an allow-list.
# Like the other `_x_by[r]` objects, computed once per recipient per evaluation: a function with arguments
# is evaluated again on every call.
_party_isas(r) := _party_by[r]

_party_by[r] := isas if {
	some r in _candidates
	isas := {isa |
		some isa in _hub.isas
		isa.recipients[r] # before `r in ...`: OPA 1.20 fails on `r in` then `x[r]` in a comprehension
		_source in isa.parties
		r in isa.parties
	}
}

# An ISA covers the event's category for every subject, or for the subject's age band only
# (the child safeguarding ISA covers every category of a child's case).
_covers_category(isa) if _event.category in isa.categories

_covers_category(isa) if _event.category in object.get(isa.categories_by_age_band, _band, [])

_category_isas(r) := _category_by[r]

_category_by[r] := isas if {
	some r in _candidates
	isas := {isa | some isa in _party_isas(r); _covers_category(isa)}
}

_in_force(isa) if {
	isa.valid_from <= input.today
	input.today <= isa.valid_to
}

_dated_isas(r) := _dated_by[r]

_dated_by[r] := isas if {
	some r in _candidates
	isas := {isa | some isa in _category_isas(r); _in_force(isa)}
}

# The subjects a recipient receives under an ISA: its own list, else the ISA's.
_recipient_bands(isa, r) := bands if {
	bands := isa.recipients[r].subject_age_bands
	bands != null
} else := isa.subject_age_bands

_age_covered(isa, r) if _band in _recipient_bands(isa, r)

# An ISA may give a recipient a case outside its age bands for a purpose it names: a linked adult
# (e.g. adult social care for an adult in a child's household). A linked person recorded as a child
# does not count, whatever the role; an unknown age counts by the role.
_age_covered(isa, r) if {
	some p in _event.linked_people
	p.age_band != "child"
	roles := isa.recipients[r].linked_adult_roles
	p.role in roles
}

_applicable_isas(r) := _applicable_by[r]

_applicable_by[r] := isas if {
	some r in _candidates
	isas := {isa | some isa in _dated_isas(r); _age_covered(isa, r)}
}

# When several agreements apply, the one with the smallest id governs (data validation forbids two
# versions of one ISA in force on the same day).
_governing_isa(r) := _governing_by[r]

_governing_by[r] := isa if {
	some r in _candidates
	some isa in _applicable_isas(r)
	isa.id == min({i.id | some i in _applicable_isas(r)})
}

_governing_by[r] := {"id": null, "version": null} if {
	some r in _candidates
	not _has_isa(r)
}

_has_isa(r) if _applicable_isas(r) != set()

_isa_refusals(r) := union({_no_agreement(r), _category_not_covered(r), _not_in_force(r), _age_refusals(r)})

_no_agreement(r) := {msg |
	_party_isas(r) == set()
	msg := sprintf("no information sharing agreement provides for %s to share with %s", [_source, r])
}

_category_not_covered(r) := {msg |
	_party_isas(r) != set()
	_category_isas(r) == set()
	ids := concat(", ", sort({i.id | some i in _party_isas(r)}))
	msg := sprintf(
		"category %s is not covered by any ISA between %s and %s (considered: %s)",
		[_event.category, _source, r, ids],
	)
}

_not_in_force(r) := {msg |
	_dated_isas(r) == set()
	some isa in _category_isas(r)
	msg := sprintf(
		"ISA %s v%s is not in force on %s (valid %s to %s)",
		[isa.id, isa.version, input.today, isa.valid_from, isa.valid_to],
	)
}

_band_words := {
	"child": "the subject is a child (under 18 when the event occurred)",
	"adult": "the subject is an adult",
	"unknown": "the subject's age is unknown (no date of birth), so the case is not treated as an adult's",
}

_age_refusals(r) := {msg |
	_dated_isas(r) != set()
	not _has_isa(r)
	ids := concat(", ", sort({sprintf("%s v%s", [i.id, i.version]) | some i in _dated_isas(r)}))
	msg := sprintf(
		"%s: no ISA in force gives %s this case for that age (considered: %s)",
		[_band_words[_band], r, ids],
	)
}

# Lawful basis, purpose and fields are stated for a share (shares.rego); a refusal shares nothing and names
# the agreement considered, if any.
_lawful_basis(r) := _share(r).lawful_basis if count(_refusals(r)) == 0 else := null

_purpose(r) := _share(r).purpose if count(_refusals(r)) == 0 else := null

_shared_fields(r) := _share(r).fields_shared if count(_refusals(r)) == 0 else := []

_withheld_fields(r) := _share(r).fields_withheld if count(_refusals(r)) == 0 else := _hub.shares.all_leaves

# What the recipient receives under its governing ISA, or under none (data.hub.shares, from shares.rego).
_share(r) := _share_by[r]

_share_by[r] := _hub.shares.isa[_isa_key(_governing_isa(r))][r] if {
	some r in _candidates
	_has_isa(r)
}

_share_by[r] := _hub.shares.no_isa[r] if {
	some r in _candidates
	not _has_isa(r)
}

# ---------------------------------------------------------------- refusals, each with its reason

_refusals(r) := _refusals_by[r]

_refusals_by[r] := _all_refusals(r) if {
	some r in _candidates
}

_all_refusals(r) := union({
	_isa_refusals(r),
	_originator_refusals(r),
	_children_refusals(r),
	_marking_refusals(r),
	_consent_refusals(r),
	_basis_refusals(r),
	_vocabulary_refusals,
})

_originator_refusals(r) := {msg |
	is_array(_event.restricted_to)
	not r in _event.restricted_to
	msg := sprintf(
		"originator control: %s restricted this event to %s",
		[_source, concat(", ", sort(_event.restricted_to))],
	)
}

# Hub-wide: a children's concern goes only to the agencies of child protection, whatever an ISA says.
_children_refusals(r) := {msg |
	_event.category in _hub.rules.children_categories
	not _kind(r) in _hub.rules.children_concern_recipient_kinds
	kinds := concat(", ", _hub.rules.children_concern_recipient_kinds)
	msg := sprintf("children's concerns (%s) go only to %s; %s is %s", [_event.category, kinds, r, _kind(r)])
}

_marking_refusals(r) := {msg |
	_event.security_marking == "OFFICIAL_SENSITIVE"
	not _hub.agencies[r].cleared_official_sensitive
	msg := sprintf("the event is marked OFFICIAL-SENSITIVE and %s is not cleared for it", [r])
}

_consent_refusals(r) := {msg |
	_event.consent.status == "REFUSED"
	_has_isa(r)
	_risk_conditions(r) == set()
	isa := _governing_isa(r)
	msg := sprintf(
		"consent refused by the subject, and no risk condition of ISA %s v%s applies (child at risk, serious harm)",
		[isa.id, isa.version],
	)
}

_basis_refusals(r) := {msg |
	_has_isa(r)
	isa := _governing_isa(r)
	not isa.lawful_basis[_kind(r)]
	msg := sprintf("ISA %s v%s states no lawful basis for a recipient of kind %s", [isa.id, isa.version, _kind(r)])
}

# Fail closed: a code outside the controlled vocabulary cannot be classified, so nothing is shared (to any
# recipient: computed once per event).
_vocabulary_refusals := {msg |
	unknown := {c | some c in _event.risk_factors; not _hub.risk_factors[c]}
	unknown != set()
	msg := sprintf("risk factor codes not in the controlled vocabulary: %s", [concat(", ", sort(unknown))])
}

# The ISA's risk conditions met by this event, in plain words; each overrides refused consent.
_risk_conditions(r) := _child_at_risk(r) | _serious_harm(r)

_child_at_risk(r) := {msg |
	cond := _governing_isa(r).conditions.consent_override.child_at_risk
	_event.category in cond.categories
	msg := sprintf("child at risk (category %s)", [_event.category])
} | {msg |
	cond := _governing_isa(r).conditions.consent_override.child_at_risk
	_band in cond.subject_age_bands
	msg := "child at risk (the subject is under 18)"
} | {msg |
	cond := _governing_isa(r).conditions.consent_override.child_at_risk
	roles := {p.role | some p in _event.linked_people} & {x | some x in cond.linked_roles}
	roles != set()
	msg := sprintf("child at risk (linked people: %s)", [concat(", ", sort(roles))])
} | {msg |
	cond := _governing_isa(r).conditions.consent_override.child_at_risk
	"child" in cond.subject_age_bands
	roles := {p.role | some p in _event.linked_people; p.age_band == "child"}
	roles != set()
	msg := sprintf("child at risk (a linked person under 18: %s)", [concat(", ", sort(roles))])
}

_serious_harm(r) := {msg |
	cond := _governing_isa(r).conditions.consent_override.serious_harm
	factors := {f | some f in _event.risk_factors} & {x | some x in cond.risk_factors}
	factors != set()
	msg := sprintf("serious harm (risk factors: %s)", [concat(", ", sort(factors))])
}

# Notes on a share: the consent position and, when consent was refused, which risk condition applies.
_share_notes(r) := set() if count(_refusals(r)) > 0

_share_notes(r) := notes if {
	count(_refusals(r)) == 0
	isa := _governing_isa(r)
	shared := {sprintf("shared under ISA %s v%s for category %s", [isa.id, isa.version, _event.category])}
	kinds := {msg | some msg in _share(r).kind_notes} # special-category fields its kind may not have
	notes := ((shared | _consent_notes(r)) | kinds) | _age_notes(r)
}

_age_notes(r) := {sprintf("subject age band: %s", [_band])}

_consent_notes(r) := {msg} if {
	_event.consent.status == "REFUSED"
	conditions := concat("; ", sort(_risk_conditions(r)))
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
_binding_refusals(r) := (_originator_refusals(r) | _marking_refusals(r)) | _vocabulary_refusals

_overridden(r) if {
	o := _override_for(r) # first: without an override for r, nothing else here is evaluated
	count(_refusals(r)) > 0
	count(_binding_refusals(r)) == 0
	_designated(o)
	_justified(o)
}

_override_notes(r) := union({
	_override_applied(r),
	_override_not_designated(r),
	_override_unjustified(r),
	_override_bound(r),
	_override_needless(r),
}) if input.override != null else := set()

_override_applied(r) := {msg |
	_overridden(r)
	o := _override_for(r)
	msg := sprintf(
		"break-glass override by %s (role %s): refusal set aside for this event; queued for IG review",
		[o.actor, o.role],
	)
}

_override_not_designated(r) := {msg |
	o := _override_for(r)
	count(_refusals(r)) > 0
	not _designated(o)
	msg := sprintf("break-glass override refused: role %s is not a designated break-glass role", [o.role])
}

_override_unjustified(r) := {msg |
	o := _override_for(r)
	count(_refusals(r)) > 0
	_designated(o)
	not _justified(o)
	msg := "break-glass override refused: a justification is mandatory"
}

_override_bound(r) := {msg |
	_override_for(r)
	count(_binding_refusals(r)) > 0
	msg := "break-glass override refused: originator control and OFFICIAL-SENSITIVE clearance cannot be set aside"
}

_override_needless(r) := {msg |
	_override_for(r)
	count(_refusals(r)) == 0
	msg := "break-glass override not needed: already shared under an ISA"
}
