# METADATA
# title: What each recipient receives under each ISA, and under break-glass
# description: |
#   The part of a decision that depends on the policy data only: for each (ISA, recipient) the fields shared
#   and withheld, the lawful basis, the purpose, the notes on special-category fields withheld and the
#   break-glass share; for a recipient no ISA governs, its break-glass share. The bundle loader evaluates
#   `shares` once per policy revision and places it in the data as data.hub.shares, for every engine alike;
#   `decision` reads it there, so an evaluation computes only what the event's facts change. `routes` holds,
#   for each (source, recipient), the ISAs that name both as parties and give the recipient an allow-list,
#   each with what the decision needs of it: an evaluation only filters them by the event's facts.
package eahub.sharing

import rego.v1

# METADATA
# title: The shares of every (ISA, recipient), placed as data.hub.shares when the bundle loads
# entrypoint: true
shares := {
	"isa": {_isa_key(isa): {r: _isa_share(isa, r) | some r, _ in isa.recipients} | some isa in _hub.isas},
	"no_isa": {r: _break_glass_share(_plain_kinds, r) | some r, _ in _hub.agencies},
	"all_leaves": _withheld_under_share([]),
	"routes": {s: {r: _route(s, r) | some r, _ in _hub.agencies; r != s} | some s, _ in _hub.agencies},
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
# lawful basis for the recipient's kind, and the recipient's share.
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

_isa_share(isa, r) := object.union(_break_glass_share(_allowed_kinds(isa, r), r), {
	"lawful_basis": _isa_lawful_basis(isa, r),
	"purpose": concat("; ", isa.purposes),
	"fields_shared": _isa_shared_fields(isa, r),
	"fields_withheld": _withheld_under_share(_isa_shared_fields(isa, r)),
	"kind_notes": _kind_notes(isa, r),
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
