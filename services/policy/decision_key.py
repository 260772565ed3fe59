"""The decision cache's key: exactly the facts a policy bundle can tell apart, derived from the bundle.

Which input paths count is read from the Rego itself: every `input.<path>` the policies refer to, directly
or through a rule that aliases part of the input (`_event := input.event`, `_source := _event.source_agency`).
A path the policies never read (today: `event.grade`) is not in the key; reading the whole of `input` or of
a part of it keeps that part whole. Three read values are reduced to what the policy and its data can
distinguish:

- `event.risk_factors`: the codes the policies or the data name (the ISAs' risk conditions), plus every code
  outside the controlled vocabulary, verbatim (it is named in the refusal). A code in the vocabulary that
  nothing names changes no decision.
- `event.linked_people`: each person whose role the policies or the data name, and every linked child (a
  child's role is named in the consent note); any other linked person changes no decision.
- `today`: which ISAs are in force that day; the day itself only when an ISA not in force could be the one a
  refusal names, with the day (it names the source and a recipient, and could cover the category).

`tests/unit/test_policy_decision_key.py` proves the reductions: perturbing every dropped fact leaves every
decision as it was."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eahub.policy.bundle import PolicyBundle
from eahub.policy.facts import policy_input
from eahub.policy.model import PolicyRequest

WHOLE = "*"  # a path read as a whole value: the key keeps it (reduced, if a reducer applies)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_COMMENT = re.compile(r"(^|\s)#.*$", re.MULTILINE)
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ALIAS = re.compile(rf"^({_NAME})\s*:=\s*({_NAME}(?:\.{_NAME})*)\s*$", re.MULTILINE)
_WITH_INPUT = re.compile(r"\bwith\s+input\s+as\b")
_BATCH = "requests"  # the batch entrypoint's wrapper around requests: each request is keyed on its own


@dataclass(frozen=True)
class DecisionKey:
    paths: dict[str, Any]  # the input paths the policies read: name -> WHOLE or a nested dict of paths
    named: frozenset[str]  # every string the policies and their rules, ISAs and agencies name
    vocabulary: frozenset[str]  # the risk-factor codes of the controlled vocabulary
    isas: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, bundle: PolicyBundle) -> DecisionKey:
        sources = [_COMMENT.sub(r"\1", text) for text in bundle.modules.values()]
        hub = bundle.data["hub"]
        named = {s for text in sources for s in _STRING.findall(text)}
        named |= set(_strings([hub["agencies"], hub["isas"], hub["rules"]]))
        known = {code for code, entry in hub["risk_factors"].items() if entry is not False}
        return cls(input_paths(sources), frozenset(named), frozenset(known), tuple(hub["isas"]))

    def key(self, revision: str, request: PolicyRequest) -> str:
        facts = self._project(policy_input(request), self.paths, (), request.event)
        return revision + "\0" + json.dumps(facts, sort_keys=True, separators=(",", ":"))

    def _project(self, value: Any, paths: Any, at: tuple[str, ...], event: dict[str, Any]) -> Any:
        if paths == WHOLE:
            reduce = _REDUCERS.get(at)
            return reduce(self, value, event) if reduce is not None and value is not None else value
        if paths.get(WHOLE) == WHOLE:
            return value
        if not isinstance(value, dict):
            return value  # a path under a value that is not an object (null): the value decides
        return {k: self._project(value[k], sub, (*at, k), event) for k, sub in paths.items() if k in value}

    def _risk_factors(self, codes: list[str], _: dict[str, Any]) -> list[str]:
        return [c for c in codes if c in self.named or c not in self.vocabulary]

    def _linked_people(self, people: list[dict[str, str]], _: dict[str, Any]) -> list[dict[str, str]]:
        return [p for p in people if p["role"] in self.named or p["age_band"] == "child"]

    def _days(self, today: str, event: dict[str, Any]) -> dict[str, Any]:
        """Which ISAs are in force; the day too when a refusal may name it: an ISA not in force that day
        names the source and another party as a recipient, and could cover the category."""
        in_force = [i["valid_from"] <= today <= i["valid_to"] for i in self.isas]
        source, category = event["source_agency"], event["category"]
        named_day = any(
            not ok
            and source in i["parties"]
            and any(r != source and r in i["parties"] for r in i["recipients"])
            and (category in i["categories"] or any(category in c for c in i["categories_by_age_band"].values()))
            for ok, i in zip(in_force, self.isas, strict=True)
        )
        return {"in_force": in_force, "day": today if named_day else None}


def input_paths(sources: Iterable[str]) -> dict[str, Any]:
    """The `input` paths Rego sources read, as a tree: {"event": {"category": WHOLE, ...}, "today": WHOLE}.
    `{WHOLE: WHOLE}` when the whole input is read."""
    texts = [_STRING.sub('""', _WITH_INPUT.sub("", _COMMENT.sub(r"\1", text))) for text in sources]
    aliases: dict[str, tuple[str, ...]] = {"input": ()}
    changed = True
    while changed:  # an alias of an alias (`_source := _event.source_agency`) resolves to an input path
        changed = False
        for text in texts:
            for name, target in _ALIAS.findall(text):
                root, *rest = target.split(".")
                if root in aliases and name not in aliases:
                    aliases[name] = (*aliases[root], *rest)
                    changed = True
    # An internal alias's own definition reads nothing: what is read is what it is used for. A rule without
    # the `_` of internal rules may be queried itself, so its definition is a read.
    texts = [_ALIAS.sub(lambda m: "" if m.group(1).startswith("_") else m.group(0), text) for text in texts]
    reference = re.compile(rf"(?<![\w.])({'|'.join(map(re.escape, aliases))})((?:\.{_NAME})*)(?!\w)")
    tree: dict[str, Any] = {}
    for text in texts:
        for root, rest in reference.findall(text):
            path = (*aliases[root], *[p for p in rest.split(".") if p])
            if path[:1] != (_BATCH,):
                _add(tree, path)
    return tree


def _add(tree: dict[str, Any], path: tuple[str, ...]) -> None:
    if not path:
        tree.clear()
        tree[WHOLE] = WHOLE
        return
    if tree.get(WHOLE) == WHOLE:
        return
    head, rest = path[0], path[1:]
    if not rest:
        tree[head] = WHOLE
        return
    sub = tree.setdefault(head, {})
    if sub != WHOLE:
        _add(sub, rest)


_REDUCERS: dict[tuple[str, ...], Callable[[DecisionKey, Any, dict[str, Any]], Any]] = {
    ("today",): DecisionKey._days,
    ("event", "risk_factors"): DecisionKey._risk_factors,
    ("event", "linked_people"): DecisionKey._linked_people,
}


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
