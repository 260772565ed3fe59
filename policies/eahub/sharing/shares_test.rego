# Tests of the routes `shares` (shares.rego) derives from the real policy data, as the bundle loader places
# them in data.hub.shares for `decision` to read: run with `eahub policy test`.
package eahub.sharing_test

import data.eahub.sharing
import rego.v1

routes := data.hub.shares.routes

# What the bundle loader placed is what the policy computes from the data, under this engine too.
test_every_share_in_the_data_is_what_the_policy_computes if {
	every isa in data.hub.isas {
		every r, _ in isa.recipients {
			sharing._isa_share(isa, r) == data.hub.shares.isa[sprintf("%s v%s", [isa.id, isa.version])][r]
		}
	}
	every r, share in data.hub.shares.no_isa {
		sharing._break_glass_share(sharing._plain_kinds, r) == share
	}
}

test_every_route_in_the_data_is_what_the_policy_computes if {
	every s, by_recipient in routes {
		every r, route in by_recipient {
			sharing._route(s, r) == route
		}
	}
}

test_a_route_holds_the_isas_naming_both_parties_that_give_the_recipient_an_allow_list if {
	route := routes["lancashire-police"]["lancashire-cc-adults"]
	# the mental-health crisis ISA by its id: its version is the data's (a new version must not break this test)
	keys := {e.key | some e in route.party; e.id != "isa-lancs-mental-health-crisis"}
	keys == {"isa-lancs-adult-safeguarding v1.0", "isa-lancs-adult-safeguarding v2.1"}
	count([e | some e in route.party; e.id == "isa-lancs-mental-health-crisis"]) == 1
	route.party_ids == "isa-lancs-adult-safeguarding, isa-lancs-mental-health-crisis"
}

test_a_route_holds_the_isas_covering_each_category_for_each_age_band if {
	route := routes["lancashire-police"]["lancashire-cc-childrens"]
	[e.key | some e in route.by_category.DOMESTIC_ABUSE] == ["isa-lancs-child-safeguarding v4.0"]
	route.by_category.MISSING_PERSON == []
	[e.key | some e in route.by_band.child.MISSING_PERSON] == ["isa-lancs-child-safeguarding v4.0"]
	[e.key | some e in route.by_band.unknown.MISSING_PERSON] == ["isa-lancs-child-safeguarding v4.0"]
	route.by_band.unknown.MENTAL_HEALTH == []
	not route.by_band.adult
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
	e.id == "isa-lancs-mental-health-crisis"
	some isa in data.hub.isas
	isa.id == e.id
	e.key == sprintf("%s v%s", [isa.id, isa.version])
	e.bands == isa.subject_age_bands
	e.linked_adult_roles == []
}

test_every_agency_routes_to_every_other_and_not_to_itself if {
	every source, _ in data.hub.agencies {
		not routes[source][source]
		count(routes[source]) == count(data.hub.agencies) - 1
	}
}

test_every_plan_and_answer_in_the_data_is_what_the_policy_computes if {
	every s, by_category in data.hub.shares.plans {
		every c, by_band in by_category {
			every b, plans in by_band {
				sharing._plans(s, c, b, routes[s]) == plans
			}
		}
	}
	every r, by_isa in data.hub.shares.answers {
		sharing._no_isa_answers(r) == by_isa[""]
		every key, answers in object.remove(by_isa, [""]) {
			some isa in data.hub.isas
			sprintf("%s v%s", [isa.id, isa.version]) == key
			sharing._answers(sharing._isa_share(isa, r), isa.id, isa.version, r) == answers
		}
	}
}
