# Tests of the sharing decision over the real policy data (data.hub): run with `eahub policy test`.
package eahub.sharing_test

import data.eahub.sharing
import rego.v1

base_event := {
	"source_agency": "lancashire-police",
	"category": "MENTAL_HEALTH",
	"grade": "GRADE_2",
	"security_marking": "OFFICIAL",
	"risk_factors": [],
	"consent": {"status": "GIVEN"},
	"restricted_to": null,
	"subject_age_band": "adult",
	"linked_people": [],
}

req(patch) := {"event": object.union(base_event, patch), "today": "2026-06-01", "override": null}

for(d, agency) := r if {
	some r in d.recipients
	r.agency == agency
}

decide(patch) := d if {
	d := sharing.decision with input as req(patch)
}

shared_with(d) := {r.agency | some r in d.recipients; r.shared}

test_every_agency_but_the_source_is_a_candidate if {
	d := decide({})
	all := {"lancashire-cc-childrens", "lancashire-cc-adults", "lscft-mental-health", "nwas"}
	{r.agency | some r in d.recipients} == all
}

test_mental_health_goes_to_crisis_partners if {
	shared_with(decide({})) == {"lancashire-cc-adults", "lscft-mental-health", "nwas"}
	for(decide({}), "lscft-mental-health").isa_id == "isa-lancs-mental-health-crisis"
}

test_category_outside_every_isa_is_refused_with_reason if {
	r := for(decide({}), "lancashire-cc-childrens")
	not r.shared
	r.isa_id == null
	contains(r.reasons[0], "category MENTAL_HEALTH is not covered by any ISA")
}

child := {"subject_age_band": "child"}

# isa-lancs-child-safeguarding v4.0 s.3.1-3.3: police, children's social care and health together.
test_children_concern_to_police_childrens_and_health if {
	d := decide(object.union(child, {"category": "CHILD_CONCERN", "source_agency": "nwas"}))
	shared_with(d) == {"lancashire-cc-childrens", "lancashire-police", "lscft-mental-health"}
	some reason in for(d, "lancashire-cc-adults").reasons
	reason == concat("", [
		"children's concerns (CHILD_CONCERN) go only to childrens-social-care, police, health; ",
		"lancashire-cc-adults is adult-social-care",
	])
	for(d, "lancashire-police").lawful_basis == data.hub.isas[0].lawful_basis.police
	startswith(for(d, "lancashire-police").lawful_basis, "DPA 2018 Part 3")
}

test_cse_from_childrens_services_to_police_and_health if {
	cse := {"category": "CHILD_SEXUAL_EXPLOITATION", "source_agency": "lancashire-cc-childrens"}
	d := decide(object.union(child, cse))
	shared_with(d) == {"lancashire-police", "lscft-mental-health"}
}

# s.2.2: a child's case goes to children's services whatever its category; adult social care does not get it.
test_a_childs_case_of_any_category_goes_to_childrens_services if {
	d := decide(child)
	shared_with(d) == {"lancashire-cc-childrens", "lscft-mental-health", "nwas"}
	some reason in for(d, "lancashire-cc-adults").reasons
	startswith(reason, "the subject is a child (under 18 when the event occurred): no ISA in force gives")
}

test_a_childs_case_reaches_adult_social_care_only_for_an_adult_in_the_household if {
	patch := object.union(child, {"category": "VULNERABLE_ADULT"})
	not "lancashire-cc-adults" in shared_with(decide(patch))
	with_adult := object.union(patch, {"linked_people": [{"role": "ADULT_IN_HOUSEHOLD", "age_band": "adult"}]})
	"lancashire-cc-adults" in shared_with(decide(with_adult))
	with_child := object.union(patch, {"linked_people": [{"role": "ADULT_IN_HOUSEHOLD", "age_band": "child"}]})
	not "lancashire-cc-adults" in shared_with(decide(with_child))
}

# s.2.3 and adult safeguarding s.1.3: an unknown age is possibly a child, and not an adult's case.
test_unknown_age_missing_person_to_childrens_not_adults if {
	d := decide({"category": "MISSING_PERSON", "subject_age_band": "unknown"})
	shared_with(d) == {"lancashire-cc-childrens", "lscft-mental-health", "nwas"}
	some reason in for(d, "lancashire-cc-adults").reasons
	startswith(reason, "the subject's age is unknown (no date of birth)")
}

test_an_adults_missing_person_does_not_go_to_childrens_services if {
	shared_with(decide({"category": "MISSING_PERSON"})) == {"lancashire-cc-adults", "lscft-mental-health", "nwas"}
}

test_a_linked_child_by_age_is_a_child_at_risk if {
	linked := [{"role": "CARER", "age_band": "child"}]
	d := decide({"category": "DOMESTIC_ABUSE", "consent": {"status": "REFUSED"}, "linked_people": linked})
	shared_with(d) == {"lancashire-cc-childrens"}
	some reason in for(d, "lancashire-cc-childrens").reasons
	contains(reason, "child at risk (a linked person under 18: CARER)")
}

# Health risk-factor codes are special category: withheld from recipients without an Art 9 condition.
test_health_risk_factors_withheld_from_police_and_ambulance if {
	d := decide({"category": "MENTAL_HEALTH", "risk_factors": ["self-harm", "weapons"]})
	r := for(d, "nwas")
	"risk_factors.general" in r.fields_shared
	"risk_factors.health" in r.fields_withheld
	"risk_factors.health" in for(d, "lscft-mental-health").fields_shared
}

test_an_unknown_risk_factor_code_is_refused_everywhere if {
	d := decide({"risk_factors": ["suicidal-ideation"]})
	shared_with(d) == set()
	some reason in for(d, "lscft-mental-health").reasons
	reason == "risk factor codes not in the controlled vocabulary: suicidal-ideation"
}

test_envelope_goes_to_every_share if {
	d := decide({})
	every r in {r | some r in d.recipients; r.shared} {
		every f in data.hub.schema.envelope {
			f in r.fields_shared
		}
	}
}

test_special_category_not_to_ambulance if {
	r := for(decide({}), "nwas")
	r.shared
	not "health_details" in r.fields_shared
	"health_details" in r.fields_withheld
	some note in r.reasons
	startswith(note, "special-category fields withheld (health_details, risk_factors.health)")
}

test_special_category_to_health_under_art9 if {
	r := for(decide({}), "lscft-mental-health")
	"health_details" in r.fields_shared
	"narrative" in r.fields_shared
	contains(r.lawful_basis, "Art 9(2)(h)")
}

categories := [
	"MENTAL_HEALTH", "CHILD_CONCERN", "VULNERABLE_ADULT", "DOMESTIC_ABUSE", "MISSING_PERSON",
	"CONCERN_FOR_WELFARE", "CHILD_SEXUAL_EXPLOITATION",
]

art9_ok(r) if {
	every f in r.fields_shared {
		data.hub.schema.fields[f] != "special-category"
	}
}

art9_ok(r) if {
	is_string(r.lawful_basis)
	contains(r.lawful_basis, "Art 9(2)")
}

test_no_special_category_without_art9_condition if {
	every category in categories {
		every r in decide({"category": category}).recipients {
			art9_ok(r)
		}
	}
}

test_referrer_never_leaves_the_source if {
	every category in categories {
		every r in decide({"category": category}).recipients {
			every f in r.fields_shared {
				not startswith(f, "referrer")
			}
		}
	}
}

test_official_sensitive_only_to_cleared if {
	d := decide({"security_marking": "OFFICIAL_SENSITIVE"})
	shared_with(d) == {"lscft-mental-health"}
	some reason in for(d, "nwas").reasons
	reason == "the event is marked OFFICIAL-SENSITIVE and nwas is not cleared for it"
}

test_refused_consent_blocks_without_risk_condition if {
	d := decide({"consent": {"status": "REFUSED"}})
	shared_with(d) == set()
	some reason in for(d, "lscft-mental-health").reasons
	startswith(reason, "consent refused by the subject, and no risk condition of ISA isa-lancs-mental-health-crisis")
}

test_refused_consent_overridden_by_serious_harm if {
	d := decide({"consent": {"status": "REFUSED"}, "risk_factors": ["suicide-risk"]})
	shared_with(d) == {"lancashire-cc-adults", "lscft-mental-health", "nwas"}
	some reason in for(d, "nwas").reasons
	prefix := "consent refused; shared because the ISA's risk condition applies: "
	reason == concat("", [prefix, "serious harm (risk factors: suicide-risk)"])
}

test_refused_consent_overridden_by_child_at_risk if {
	linked := [{"role": "CHILD_IN_HOUSEHOLD", "age_band": "unknown"}]
	d := decide({"category": "DOMESTIC_ABUSE", "consent": {"status": "REFUSED"}, "linked_people": linked})
	shared_with(d) == {"lancashire-cc-childrens", "lancashire-cc-adults", "lscft-mental-health", "nwas"}
	some reason in for(d, "lancashire-cc-childrens").reasons
	contains(reason, "child at risk (linked people: CHILD_IN_HOUSEHOLD)")
}

test_originator_control if {
	d := decide({"restricted_to": ["lscft-mental-health"]})
	shared_with(d) == {"lscft-mental-health"}
	some reason in for(d, "nwas").reasons
	reason == "originator control: lancashire-police restricted this event to lscft-mental-health"
}

test_isa_not_yet_in_force if {
	d := sharing.decision with input as {"event": base_event, "today": "2024-12-31", "override": null}
	shared_with(d) == set()
	some reason in for(d, "lscft-mental-health").reasons
	reason == "ISA isa-lancs-mental-health-crisis v1.2 is not in force on 2024-12-31 (valid 2025-01-01 to 2027-12-31)"
}

test_superseded_isa_version_not_used if {
	va := object.union(base_event, {"category": "VULNERABLE_ADULT"})
	d := sharing.decision with input as {"event": va, "today": "2023-05-01", "override": null}
	r := for(d, "lancashire-cc-adults")
	r.isa_version == "1.0"
	not "health_details" in r.fields_shared
}

test_source_outside_isa_parties if {
	d := decide({"source_agency": "lancashire-cc-childrens"})
	r := for(d, "lscft-mental-health")
	not r.shared
	contains(r.reasons[0], "category MENTAL_HEALTH is not covered")
}

override(role, justified) := {
	"recipient": "lancashire-cc-childrens",
	"role": role,
	"actor": "PC1234",
	"justified": justified,
}

test_break_glass_by_designated_role if {
	d := sharing.decision with input as object.union(req({}), {"override": override("police-duty-inspector", true)})
	r := for(d, "lancashire-cc-childrens")
	r.shared
	r.override
	"subject.name" in r.fields_shared
	not "health_details" in r.fields_shared
	not "referrer.name" in r.fields_shared
	some reason in r.reasons
	startswith(reason, "break-glass override by PC1234 (role police-duty-inspector)")
}

# The override names one recipient: every other candidate is decided, and explained, as without it.
test_break_glass_concerns_only_its_recipient if {
	plain := decide({})
	d := sharing.decision with input as object.union(req({}), {"override": override("police-duty-inspector", true)})
	others := [r | some r in d.recipients; r.agency != "lancashire-cc-childrens"]
	count(others) == 3
	every r in others {
		r == for(plain, r.agency)
	}
}

test_break_glass_refused_for_other_roles if {
	d := sharing.decision with input as object.union(req({}), {"override": override("constable", true)})
	r := for(d, "lancashire-cc-childrens")
	not r.shared
	not r.override
	some reason in r.reasons
	reason == "break-glass override refused: role constable is not a designated break-glass role"
}

test_break_glass_needs_justification if {
	d := sharing.decision with input as object.union(req({}), {"override": override("caldicott-guardian", false)})
	r := for(d, "lancashire-cc-childrens")
	not r.shared
	some reason in r.reasons
	reason == "break-glass override refused: a justification is mandatory"
}

test_break_glass_cannot_set_aside_originator_control if {
	restricted := req({"restricted_to": ["lscft-mental-health"]})
	d := sharing.decision with input as object.union(restricted, {"override": override("police-duty-inspector", true)})
	r := for(d, "lancashire-cc-childrens")
	not r.shared
	not r.override
	some reason in r.reasons
	reason == "break-glass override refused: originator control and OFFICIAL-SENSITIVE clearance cannot be set aside"
}

test_break_glass_cannot_set_aside_the_security_marking if {
	marked := req({"security_marking": "OFFICIAL_SENSITIVE"})
	o := object.union(override("police-duty-inspector", true), {"recipient": "nwas"})
	d := sharing.decision with input as object.union(marked, {"override": o})
	r := for(d, "nwas")
	not r.shared
	not r.override
}

test_batch_keeps_order if {
	b := sharing.batch with input as {"requests": [req({}), req(object.union(child, {"category": "CHILD_CONCERN"}))]}
	shared_with(b[0]) == {"lancashire-cc-adults", "lscft-mental-health", "nwas"}
	shared_with(b[1]) == {"lancashire-cc-childrens", "lscft-mental-health"}
}

test_refused_consent_overridden_for_a_child_at_risk_by_category_and_age if {
	d := decide({"category": "CHILD_CONCERN", "consent": {"status": "REFUSED"}, "subject_age_band": "child"})
	r := for(d, "lancashire-cc-childrens")
	r.shared
	some reason in r.reasons
	prefix := "consent refused; shared because the ISA's risk condition applies: "
	reason == concat("", [prefix, "child at risk (category CHILD_CONCERN); child at risk (the subject is under 18)"])
}

test_break_glass_not_needed_where_an_isa_already_shares if {
	o := object.union(override("police-duty-inspector", true), {"recipient": "nwas"})
	d := sharing.decision with input as object.union(req({}), {"override": o})
	r := for(d, "nwas")
	r.shared
	not r.override
	r.isa_id == "isa-lancs-mental-health-crisis"
	"break-glass override not needed: already shared under an ISA" in r.reasons
}
