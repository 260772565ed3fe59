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
	{r.agency | some r in d.recipients} == {"lancashire-cc-childrens", "lancashire-cc-adults", "lscft-mental-health", "nwas"}
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

test_children_concern_only_to_childrens_services if {
	d := decide({"category": "CHILD_CONCERN"})
	shared_with(d) == {"lancashire-cc-childrens"}
	some reason in for(d, "lscft-mental-health").reasons
	startswith(reason, "children's concerns (CHILD_CONCERN) go only to children's services")
}

test_cse_only_to_childrens_services if {
	shared_with(decide({"category": "CHILD_SEXUAL_EXPLOITATION"})) == {"lancashire-cc-childrens"}
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
	startswith(note, "special-category fields withheld (health_details)")
}

test_special_category_to_health_under_art9 if {
	r := for(decide({}), "lscft-mental-health")
	"health_details" in r.fields_shared
	"narrative" in r.fields_shared
	contains(r.lawful_basis, "Art 9(2)(h)")
}

categories := ["MENTAL_HEALTH", "CHILD_CONCERN", "VULNERABLE_ADULT", "DOMESTIC_ABUSE", "MISSING_PERSON", "CONCERN_FOR_WELFARE"]

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
	reason == "consent refused; shared because the ISA's risk condition applies: serious harm (risk factors: suicide-risk)"
}

test_refused_consent_overridden_by_child_at_risk if {
	d := decide({"category": "DOMESTIC_ABUSE", "consent": {"status": "REFUSED"}, "linked_people": [{"role": "CHILD_IN_HOUSEHOLD"}]})
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
	d := sharing.decision with input as {"event": object.union(base_event, {"category": "VULNERABLE_ADULT"}), "today": "2023-05-01", "override": null}
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

override(role, justified) := {"recipient": "lancashire-cc-childrens", "role": role, "actor": "PC1234", "justified": justified}

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
	b := sharing.batch with input as {"requests": [req({}), req({"category": "CHILD_CONCERN"})]}
	shared_with(b[0]) == {"lancashire-cc-adults", "lscft-mental-health", "nwas"}
	shared_with(b[1]) == {"lancashire-cc-childrens"}
}
