# Who may receive a concern event, under which ISA and lawful basis, and which of its fields.
#
# Input (one request):  {"event": <policy facts of a ConcernEvent>, "today": "YYYY-MM-DD",
#                        "override": null | {"recipient", "role", "actor", "justification"}}
# Batch input:          {"requests": [<request>, ...]}  ->  data.eahub.sharing.batch
#
# The event facts are the policy-relevant part of the event only (source_agency, category, grade,
# security_marking, risk_factors, consent.status, restricted_to, linked_people[].role): no personal
# values ever reach the policy engine, and what fields are shared depends on the agreement, not on them.
#
# Data: data.hub.agencies (id -> agency), data.hub.isas, data.hub.rules, and data.hub.schema (field
# classification by personal-data kind, derived from schemas/ when the bundle loads).
package eahub.sharing

import rego.v1

hub := data.hub

event := input.event

source := event.source_agency

batch := [d | some req in input.requests; d := decision with input as req]

# One structured decision per event: every registered agency except the source, shared or refused.
decision := {"recipients": [recipient_decision(r) | some r in sort(candidates)]}

candidates contains id if {
	some id, _ in hub.agencies
	id != source
}

recipient_decision(r) := d if {
	not overridden(r)
	d := {
		"agency": r,
		"shared": count(refusals(r)) == 0,
		"isa_id": governing_isa(r).id,
		"isa_version": governing_isa(r).version,
		"lawful_basis": lawful_basis(r),
		"purpose": purpose(r),
		"fields_shared": shared_fields(r),
		"fields_withheld": withheld_fields(r, shared_fields(r)),
		"reasons": array.concat(sort(refusals(r)), array.concat(sort(share_notes(r)), sort(override_notes(r)))),
		"override": false,
	}
}

recipient_decision(r) := d if {
	overridden(r)
	granted := override_fields(r)
	d := {
		"agency": r,
		"shared": true,
		"isa_id": governing_isa(r).id,
		"isa_version": governing_isa(r).version,
		"lawful_basis": override_lawful_basis(r),
		"purpose": hub.rules.break_glass.purpose,
		"fields_shared": granted,
		"fields_withheld": withheld_fields(r, granted),
		"reasons": array.concat(sort(refusals(r)), sort(override_notes(r))),
		"override": true,
	}
}

# ---------------------------------------------------------------- the governing agreement

kind(r) := hub.agencies[r].kind

# ISAs that name both the source and the recipient as parties and give the recipient an allow-list.
party_isas(r) := {isa |
	some isa in hub.isas
	isa.recipients[r] # before `r in ...`: OPA 1.20 fails on `r in` then `x[r]` in a comprehension
	source in isa.parties
	r in isa.parties
}

category_isas(r) := {isa | some isa in party_isas(r); event.category in isa.categories}

in_force(isa) if {
	isa.valid_from <= input.today
	input.today <= isa.valid_to
}

applicable_isas(r) := applicable_by[r]

applicable_by[r] := isas if {
	some r in candidates
	isas := {isa | some isa in category_isas(r); in_force(isa)}
}

# When several agreements apply, the one with the smallest id governs (data validation forbids two
# versions of one ISA in force on the same day).
governing_isa(r) := governing_by[r]

governing_by[r] := isa if {
	some r in candidates
	some isa in applicable_isas(r)
	isa.id == min({i.id | some i in applicable_isas(r)})
}

governing_by[r] := {"id": null, "version": null} if {
	some r in candidates
	not has_isa(r)
}

has_isa(r) if applicable_isas(r) != set()

isa_refusals(r) := ((no_agreement(r) | category_not_covered(r)) | not_in_force(r))

no_agreement(r) := {msg |
	party_isas(r) == set()
	msg := sprintf("no information sharing agreement provides for %s to share with %s", [source, r])
}

category_not_covered(r) := {msg |
	party_isas(r) != set()
	category_isas(r) == set()
	ids := concat(", ", sort({i.id | some i in party_isas(r)}))
	msg := sprintf("category %s is not covered by any ISA between %s and %s (considered: %s)", [event.category, source, r, ids])
}

not_in_force(r) := {msg |
	not has_isa(r)
	some isa in category_isas(r)
	msg := sprintf(
		"ISA %s v%s is not in force on %s (valid %s to %s)",
		[isa.id, isa.version, input.today, isa.valid_from, isa.valid_to],
	)
}

# Lawful basis and purpose are stated for a share; a refusal names the agreement considered, if any.
lawful_basis(r) := basis if {
	count(refusals(r)) == 0
	not special_category_shared(r)
	basis := governing_isa(r).lawful_basis[kind(r)]
} else := basis if {
	count(refusals(r)) == 0
	special_category_shared(r)
	basis := sprintf("%s; %s", [governing_isa(r).lawful_basis[kind(r)], governing_isa(r).art9_conditions[kind(r)]])
} else := null

purpose(r) := concat("; ", governing_isa(r).purposes) if count(refusals(r)) == 0 else := null

# ---------------------------------------------------------------- refusals, each with its reason

refusals(r) := refusals_by[r]

refusals_by[r] := all_refusals(r) if {
	some r in candidates
}

all_refusals(r) := ((((isa_refusals(r) | originator_refusals(r)) | children_refusals(r)) | marking_refusals(r)) | consent_refusals(r)) | basis_refusals(r)

originator_refusals(r) := {msg |
	is_array(event.restricted_to)
	not r in event.restricted_to
	msg := sprintf(
		"originator control: %s restricted this event to %s",
		[source, concat(", ", sort(event.restricted_to))],
	)
}

children_refusals(r) := {msg |
	event.category in hub.rules.children_categories
	not kind(r) in hub.rules.children_services_kinds
	msg := sprintf("children's concerns (%s) go only to children's services; %s is %s", [event.category, r, kind(r)])
}

marking_refusals(r) := {msg |
	event.security_marking == "OFFICIAL_SENSITIVE"
	not hub.agencies[r].cleared_official_sensitive
	msg := sprintf("the event is marked OFFICIAL-SENSITIVE and %s is not cleared for it", [r])
}

consent_refusals(r) := {msg |
	event.consent.status == "REFUSED"
	has_isa(r)
	risk_conditions(r) == set()
	isa := governing_isa(r)
	msg := sprintf(
		"consent refused by the subject, and no risk condition of ISA %s v%s applies (child at risk, serious harm)",
		[isa.id, isa.version],
	)
}

basis_refusals(r) := {msg |
	has_isa(r)
	isa := governing_isa(r)
	not isa.lawful_basis[kind(r)]
	msg := sprintf("ISA %s v%s states no lawful basis for a recipient of kind %s", [isa.id, isa.version, kind(r)])
}

# The ISA's risk conditions met by this event, in plain words; each overrides refused consent.
risk_conditions(r) := child_at_risk(r) | serious_harm(r)

child_at_risk(r) := {msg |
	cond := governing_isa(r).conditions.consent_override.child_at_risk
	event.category in cond.categories
	msg := sprintf("child at risk (category %s)", [event.category])
} | {msg |
	cond := governing_isa(r).conditions.consent_override.child_at_risk
	roles := {p.role | some p in event.linked_people} & {x | some x in cond.linked_roles}
	roles != set()
	msg := sprintf("child at risk (linked people: %s)", [concat(", ", sort(roles))])
}

serious_harm(r) := {msg |
	cond := governing_isa(r).conditions.consent_override.serious_harm
	factors := {f | some f in event.risk_factors} & {x | some x in cond.risk_factors}
	factors != set()
	msg := sprintf("serious harm (risk factors: %s)", [concat(", ", sort(factors))])
}

# Notes on a share: the consent position and, when consent was refused, which risk condition applies.
share_notes(r) := set() if count(refusals(r)) > 0

share_notes(r) := notes if {
	count(refusals(r)) == 0
	isa := governing_isa(r)
	notes := ({sprintf("shared under ISA %s v%s for category %s", [isa.id, isa.version, event.category])} | consent_notes(r)) | kind_notes(r)
}

# Why fields on the ISA's allow-list were still withheld: their kind does not allow it for this recipient.
kind_notes(r) := {msg |
	withheld := {f | some f in isa_fields(r); fields[f] == "special-category"; not special_category_allowed(r)}
	withheld != set()
	msg := sprintf(
		"special-category fields withheld (%s): no UK GDPR Art 9 condition for a recipient of kind %s",
		[concat(", ", sort(withheld)), kind(r)],
	)
}

consent_notes(r) := {sprintf("consent refused; shared because the ISA's risk condition applies: %s", [concat("; ", sort(risk_conditions(r)))])} if {
	event.consent.status == "REFUSED"
}

consent_notes(r) := {sprintf("consent %s", [consent_words[event.consent.status]])} if {
	event.consent.status != "REFUSED"
}

consent_words := {
	"GIVEN": "given by the subject",
	"NOT_SOUGHT": "not sought: sharing rests on the lawful basis, not on consent",
	"NOT_REQUIRED": "not required: sharing rests on the lawful basis",
}

# ---------------------------------------------------------------- fields, by allow-list and by kind

fields := hub.schema.fields

# Every allow-list entry expands to the leaf fields under it (`subject` -> `subject.name`, ...).
leaves_under(path) := {l | some l in hub.schema.leaves_of[path]}

envelope := {f | some f in hub.schema.envelope}

art9_condition(r) if governing_isa(r).art9_conditions[kind(r)]

special_category_allowed(r) if {
	kind(r) in hub.rules.special_category_recipient_kinds
	art9_condition(r)
}

# A field may leave the source only when its kind allows it for this recipient.
kind_allows(_, f) if fields[f] in {"none", "direct-identifier"}

kind_allows(r, f) if {
	fields[f] == "special-category"
	special_category_allowed(r)
}

# protected-identity (the referrer): never leaves the source agency; no rule allows it.

isa_fields(r) := isa_fields_by[r]

isa_fields_by[r] := {l | some p in governing_isa(r).recipients[r].fields; some l in leaves_under(p)} if {
	some r in candidates
	has_isa(r)
}

isa_fields_by[r] := set() if {
	some r in candidates
	not has_isa(r)
}

allowed_fields(wanted, r) := {f | some f in (wanted | envelope); kind_allows(r, f)}

shared_fields(r) := shared_by[r]

shared_by[r] := sort(allowed_fields(isa_fields(r), r)) if {
	some r in candidates
	count(refusals(r)) == 0
}

shared_by[r] := [] if {
	some r in candidates
	count(refusals(r)) > 0
}

special_category_shared(r) if {
	some f in shared_fields(r)
	fields[f] == "special-category"
}

# Withheld: every leaf field of the schema not shared.
withheld_fields(r, shared) := sort({l | some l in hub.schema.leaves; not l in shared})

# ---------------------------------------------------------------- break-glass

override_for(r) := o if {
	o := input.override
	o != null
	o.recipient == r
}

designated(o) if o.role in hub.rules.break_glass.roles

# The engine is told only that a justification was given, never its text (it may name people).
justified(o) if o.justified == true

# Refusals no break-glass can set aside: the originator's own restriction and the security marking.
binding_refusals(r) := originator_refusals(r) | marking_refusals(r)

overridden(r) if {
	count(refusals(r)) > 0
	count(binding_refusals(r)) == 0
	o := override_for(r)
	designated(o)
	justified(o)
}

# The override shares a minimal, bounded set: the break-glass list, the envelope, and (special-category)
# only where the recipient's kind and an Art 9 condition allow; the referrer never.
override_fields(r) := sort(allowed_fields({l | some p in hub.rules.break_glass.fields; some l in leaves_under(p)}, r))

override_lawful_basis(r) := hub.rules.break_glass.lawful_basis[kind(r)] if {
	hub.rules.break_glass.lawful_basis[kind(r)]
} else := hub.rules.break_glass.lawful_basis["default"]

override_notes(r) := {msg |
	overridden(r)
	o := override_for(r)
	msg := sprintf("break-glass override by %s (role %s): refusal set aside for this event; queued for IG review", [o.actor, o.role])
} | {msg |
	o := override_for(r)
	count(refusals(r)) > 0
	not designated(o)
	msg := sprintf("break-glass override refused: role %s is not a designated break-glass role", [o.role])
} | {msg |
	o := override_for(r)
	count(refusals(r)) > 0
	designated(o)
	not justified(o)
	msg := "break-glass override refused: a justification is mandatory"
} | {msg |
	o := override_for(r)
	count(binding_refusals(r)) > 0
	msg := "break-glass override refused: originator control and OFFICIAL-SENSITIVE clearance cannot be set aside"
} | {msg |
	o := override_for(r)
	count(refusals(r)) == 0
	msg := "break-glass override not needed: already shared under an ISA"
}
