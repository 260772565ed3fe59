# Tests of the routes `shares` (shares.rego) derives from the real policy data, as the bundle loader places
# them in data.hub.shares for `decision` to read: run with `eahub policy test`.
package eahub.sharing_test

import rego.v1

routes := data.hub.shares.routes

test_a_route_holds_the_isas_naming_both_parties_that_give_the_recipient_an_allow_list if {
	route := routes["lancashire-police"]["lancashire-cc-adults"]
	keys := {e.key | some e in route.party}
	keys == {
		"isa-lancs-adult-safeguarding v1.0",
		"isa-lancs-adult-safeguarding v2.1",
		"isa-lancs-mental-health-crisis v1.2",
	}
	route.party_ids == "isa-lancs-adult-safeguarding, isa-lancs-mental-health-crisis"
}

test_a_route_entry_holds_the_recipients_subjects_linked_adults_and_share if {
	some e in routes["lancashire-police"]["lancashire-cc-adults"].party
	e.key == "isa-lancs-adult-safeguarding v2.1"
	e.bands == ["adult"]
	e.linked_adult_roles == ["ADULT_IN_HOUSEHOLD", "CARER"]
	e.share == data.hub.shares.isa["isa-lancs-adult-safeguarding v2.1"]["lancashire-cc-adults"]
}

test_a_recipient_without_its_own_subjects_has_the_isas if {
	some e in routes["lancashire-police"].nwas.party
	e.key == "isa-lancs-mental-health-crisis v1.2"
	e.bands == e.isa.subject_age_bands
	e.linked_adult_roles == []
}

test_every_agency_routes_to_every_other_and_not_to_itself if {
	every source, _ in data.hub.agencies {
		not routes[source][source]
		count(routes[source]) == count(data.hub.agencies) - 1
	}
}
