# METADATA
# title: What each recipient receives under each ISA, and under break-glass
# description: |
#   The part of a decision that depends on the policy data only: for each (ISA, recipient) the fields shared
#   and withheld, the lawful basis, the purpose, the notes on special-category fields withheld and the
#   break-glass share; for a recipient no ISA governs, its break-glass share. The bundle loader evaluates
#   `shares` once per policy revision and places it in the data as data.hub.shares, for every engine alike;
#   `decision` reads it there, so an evaluation computes only what the event's facts change. `routes` holds,
#   for each (source, recipient), the ISAs that name both as parties and give the recipient an allow-list,
#   each with what the decision needs of it. `plans` holds, for each (source, category, age band), the
#   static part of every candidate's answer (the ISAs covering it, ordered by id, and the refusals no other
#   fact changes), and `answers` the answer documents of each (ISA, recipient) and of no ISA: an evaluation
#   only filters the ISAs by the event's day and linked people and adds what its other facts change.
package eahub.sharing

import rego.v1

# METADATA
# title: The shares of every (ISA, recipient), placed as data.hub.shares when the bundle loads
# entrypoint: true
shares := {
	"isa": {_isa_key(isa): {r: _isa_share(isa, r) | some r, _ in isa.recipients} | some isa in _hub.isas},
	"no_isa": {r: _break_glass_share(_plain_kinds, r) | some r, _ in _hub.agencies},
	"all_leaves": _withheld_under_share([]),
	"routes": _routes_of,
	"answers": {r: object.union({"": _no_isa_answers(r)}, {key: _answers(_isa_share(isa, r), isa.id, isa.version, r) |
		some isa in _hub.isas
		isa.recipients[r]
		key := _isa_key(isa)
	}) | some r, _ in _hub.agencies},
	"consent_overrides": {_isa_key(isa): isa.conditions.consent_override | some isa in _hub.isas},
	"plans": {s: {c: {b: _plans(s, c, b, by_recipient) | some b, _ in _band_words} | some c in _categories} |
		some s, by_recipient in _routes_of
	},
}

_routes_of := {s: {r: _route(s, r) | some r, _ in _hub.agencies; r != s} | some s, _ in _hub.agencies}

# The categories the data names (an event of another category is planned when it is decided).
_categories := _named_categories(_hub.isas) | {c | some c in _hub.rules.children_categories}

# ---------------------------------------------------------------- plans: the static part of each answer

# The candidates of a source, in order (every registered agency but the source), each with its plan.
_plans(s, c, b, routes) := [_plan(s, c, b, r, object.get(routes, r, _no_route)) |
	some r in sort({id | some id, _ in _hub.agencies; id != s})
]

_no_route := {"party": [], "party_ids": "", "by_category": {}, "by_band": {}}

# `uncovered`: the refusal when no ISA between the two covers the category (null when one does);
# `children`: the hub-wide refusal of a children's concern to this recipient; `marking`: its refusal of an
# OFFICIAL-SENSITIVE event. `covering` is ordered by id, so the first one in force and covering the subject
# governs; else `no_isa` does. Each names its `answers` in data.hub.shares.answers[r] ("" for no ISA).
_plan(s, c, b, r, route) := {
	"agency": r,
	"no_isa": {
		"answers": "",
		"id": null,
		"version": null,
		"key": null,
		"basis_refusals": [],
		"notes": [],
	},
	"covering": [_plan_entry(e, c, b) | some id in sort({e.id | some e in covering}); some e in covering; e.id == id],
	"uncovered": _uncovered(s, c, r, route, covering),
	"children": [msg | some msg in _children_refusals(c, _hub.agencies[r])],
	"marking": [msg | some msg in _marking_refusals(_hub.agencies[r])],
} if {
	covering := object.get(object.get(route.by_band, b, route.by_category), c, [])
}

_uncovered(s, c, r, route, covering) := msg if {
	count(route.party) == 0
	msg := sprintf("no information sharing agreement provides for %s to share with %s", [s, r])
} else := msg if {
	count(covering) == 0
	msg := sprintf(
		"category %s is not covered by any ISA between %s and %s (considered: %s)",
		[c, s, r, route.party_ids],
	)
} else := null

# A route's ISA entry as an evaluation reads it (only that: an evaluation iterates over it), with what
# the subject's age band `b` decides of it (`age_ok`: it gives the recipient subjects of that band) and the
# notes on a share under it for the category, consent aside; its answers and risk conditions are looked up
# by its key.
_plan_entry(e, c, b) := {
	"answers": e.key,
	"id": e.id,
	"version": e.version,
	"key": e.key,
	"valid_from": e.valid_from,
	"valid_to": e.valid_to,
	"linked_adult_roles": e.linked_adult_roles,
	"basis_refusals": e.basis_refusals,
	"age_ok": b in e.bands,
	"notes": sort(array.concat(
		[
			sprintf("shared under ISA %s v%s for category %s", [e.id, e.version, c]),
			sprintf("subject age band: %s", [b]),
		],
		e.kind_notes,
	)),
}

# The answer documents, reasons aside: a share under the ISA, the break-glass share, a refusal naming it.
_answers(share, id, version, r) := object.union(_no_isa_answers_of(share, id, version, r), {"shared": {
	"agency": r,
	"shared": true,
	"isa_id": id,
	"isa_version": version,
	"lawful_basis": share.lawful_basis,
	"purpose": share.purpose,
	"fields_shared": share.fields_shared,
	"fields_withheld": share.fields_withheld,
	"override": false,
}})

_no_isa_answers(r) := _no_isa_answers_of(_break_glass_share(_plain_kinds, r), null, null, r)

_no_isa_answers_of(share, id, version, r) := {
	"overridden": {
		"agency": r,
		"shared": true,
		"isa_id": id,
		"isa_version": version,
		"lawful_basis": share.override_lawful_basis,
		"purpose": _hub.rules.break_glass.purpose,
		"fields_shared": share.override_fields,
		"fields_withheld": share.override_withheld,
		"override": true,
	},
	"refused": {
		"agency": r,
		"shared": false,
		"isa_id": id,
		"isa_version": version,
		"lawful_basis": null,
		"purpose": null,
		"fields_shared": [],
		"fields_withheld": _withheld_under_share([]),
		"override": false,
	},
}

# Hub-wide: a children's concern goes only to the agencies of child protection, whatever an ISA says.
_children_refusals(category, agency) := {msg |
	category in _hub.rules.children_categories
	not agency.kind in _hub.rules.children_concern_recipient_kinds
	kinds := concat(", ", _hub.rules.children_concern_recipient_kinds)
	msg := sprintf(
		"children's concerns (%s) go only to %s; %s is %s",
		[category, kinds, agency.id, agency.kind],
	)
}

# The refusal of an OFFICIAL-SENSITIVE event to an agency not cleared for it (when it is so marked).
_marking_refusals(agency) := {msg |
	not agency.cleared_official_sensitive
	msg := sprintf("the event is marked OFFICIAL-SENSITIVE and %s is not cleared for it", [agency.id])
}

# The ISAs between a source and a recipient, with the ids a refusal names when none covers the category, and
# those that cover each category they name: `by_category` for every subject, `by_band` for a subject of an
# age band that some of them cover categories for (the unconditional ones included).
_route(s, r) := route if {
	isas := [isa | some isa in _party_isas_of(s, r)]
	entries := [_party_entry(isa, r) | some isa in isas]
	route := {
		"party": entries,
		"party_ids": concat(", ", sort({isa.id | some isa in isas})),
		"by_category": _covering(isas, entries, null),
		"by_band": {band: _covering(isas, entries, band) |
			some isa in isas
			some band, _ in isa.categories_by_age_band
		},
	}
}

# `entries[i]` is the entry of `isas[i]`.
_covering(isas, entries, band) := {c: [entries[i] | some i, isa in isas; _covers_category(isa, c, band)] |
	some c in _named_categories(isas)
}

_named_categories(isas) := {c |
	some isa in isas
	some c in array.concat(isa.categories, [x | some cs in isa.categories_by_age_band; some x in cs])
}

# An ISA covers a category for every subject, or for the subject's age band only (the child safeguarding
# ISA covers every category of a child's case).
_covers_category(isa, category, _) if category in isa.categories

_covers_category(isa, category, band) if category in object.get(isa.categories_by_age_band, band, [])

_party_isas_of(s, r) := {isa |
	some isa in _hub.isas
	isa.recipients[r]
	s in isa.parties
	r in isa.parties
}

# An ISA as a decision reads it for a recipient (only that: a decision passes it around): its id, version,
# key and dates, the subjects it gives the recipient (its own list, else the ISA's), the linked adults' roles
# that stand in for them, the risk conditions that set aside refused consent, the refusal when it states no
# lawful basis for the recipient's kind, the notes on special-category fields its kind may not have, and the
# recipient's share.
_party_entry(isa, r) := {
	"id": isa.id,
	"version": isa.version,
	"key": _isa_key(isa),
	"valid_from": isa.valid_from,
	"valid_to": isa.valid_to,
	"bands": _recipient_bands(isa, r),
	"linked_adult_roles": isa.recipients[r].linked_adult_roles,
	"consent_override": isa.conditions.consent_override,
	"basis_refusals": _basis_refusals(isa, r),
	"kind_notes": _kind_notes(isa, r),
	"share": _isa_share(isa, r),
}

_basis_refusals(isa, r) := [msg |
	not isa.lawful_basis[_kind(r)]
	msg := sprintf("ISA %s v%s states no lawful basis for a recipient of kind %s", [isa.id, isa.version, _kind(r)])
]

_recipient_bands(isa, r) := bands if {
	bands := isa.recipients[r].subject_age_bands
	bands != null
} else := isa.subject_age_bands

_isa_key(isa) := sprintf("%s v%s", [isa.id, isa.version])

_kind(r) := _hub.agencies[r].kind

_isa_share(isa, r) := object.union(_break_glass_share(_allowed_kinds(isa, r), r), {
	"lawful_basis": _isa_lawful_basis(isa, r),
	"purpose": concat("; ", isa.purposes),
	"fields_shared": _isa_shared_fields(isa, r),
	"fields_withheld": _withheld_under_share(_isa_shared_fields(isa, r)),
})

# The lawful basis of a share, with the Art 9 condition when special-category fields are shared; null when
# the ISA states none for the recipient's kind (the decision then refuses, naming that).
_isa_lawful_basis(isa, r) := basis if {
	not _special_category_shared(isa, r)
	basis := isa.lawful_basis[_kind(r)]
} else := basis if {
	_special_category_shared(isa, r)
	basis := sprintf("%s; %s", [isa.lawful_basis[_kind(r)], isa.art9_conditions[_kind(r)]])
} else := null

# Why fields on the ISA's allow-list were still withheld: their kind does not allow it for this recipient.
_kind_notes(isa, r) := [msg |
	not _special_category_allowed(isa, r)
	withheld := {f | some f in _isa_fields(isa, r); _fields[f] == "special-category"}
	withheld != set()
	msg := sprintf(
		"special-category fields withheld (%s): no UK GDPR Art 9 condition for a recipient of kind %s",
		[concat(", ", sort(withheld)), _kind(r)],
	)
]

# ---------------------------------------------------------------- fields, by allow-list and by kind

_fields := _hub.schema.fields

# Every allow-list entry expands to the leaf fields under it (`subject` -> `subject.name`, ...,
# `risk_factors` -> `risk_factors.general`, `risk_factors.health`).
_leaves_under(path) := {l | some l in _hub.schema.leaves_of[path]}

_envelope := {f | some f in _hub.schema.envelope}

_art9_condition(isa, r) if isa.art9_conditions[_kind(r)]

_special_category_allowed(isa, r) if {
	_kind(r) in _hub.rules.special_category_recipient_kinds
	_art9_condition(isa, r)
}

# A field may leave the source only when its kind allows it for this recipient: special-category fields
# only under an ISA with an Art 9 condition for it (so never when no ISA governs).
_allowed_kinds(isa, r) := _plain_kinds | {"special-category"} if {
	_special_category_allowed(isa, r)
} else := _plain_kinds

_plain_kinds := {"none", "direct-identifier"}

# protected-identity (the referrer): never leaves the source agency; no rule allows it.

_isa_fields(isa, r) := {l | some p in isa.recipients[r].fields; some l in _leaves_under(p)}

_allowed_fields(wanted, kinds) := {f | some f in (wanted | _envelope); _fields[f] in kinds}

_isa_shared_fields(isa, r) := sort(_allowed_fields(_isa_fields(isa, r), _allowed_kinds(isa, r)))

_special_category_shared(isa, r) if {
	some f in _isa_shared_fields(isa, r)
	_fields[f] == "special-category"
}

# Withheld: every leaf field of the schema not shared.
_withheld_under_share(shared) := sort({l | some l in _hub.schema.leaves} - {f | some f in shared})

# ---------------------------------------------------------------- break-glass

# The override shares a minimal, bounded set: the break-glass list, the envelope, and (special-category)
# only where the recipient's kind and an Art 9 condition of the governing ISA allow (`kinds`); the referrer
# never.
_break_glass_share(kinds, r) := {
	"override_fields": _override_fields(kinds),
	"override_withheld": _withheld_under_share(_override_fields(kinds)),
	"override_lawful_basis": _override_lawful_basis(r),
}

_override_fields(kinds) := sort(_allowed_fields(
	{l | some p in _hub.rules.break_glass.fields; some l in _leaves_under(p)},
	kinds,
))

_override_lawful_basis(r) := _hub.rules.break_glass.lawful_basis[_kind(r)] if {
	_hub.rules.break_glass.lawful_basis[_kind(r)]
} else := _hub.rules.break_glass.lawful_basis["default"]
