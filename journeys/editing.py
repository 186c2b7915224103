"""Editing a journey's graph one step at a time, as the panel does (no JSON typed by anyone):
a step is added on a branch of another (taking over where that branch went, so the graph stays
connected), edited in place, or deleted with the steps only it leads to. Pure functions over the
definition; journeys.services.journey_save_steps checks and saves the result."""

from __future__ import annotations

import copy
import re

from journeys.graph import BRANCHES, reachable, steps_of

PRIMARY = {
    "send_sms": "next",
    "send_whatsapp": "next",
    "wait": "next",
    "wait_delivery": "delivered",
    "condition": "yes",
}
PREFIX = {
    "send_sms": "sms",
    "send_whatsapp": "whatsapp",
    "wait": "wait",
    "wait_delivery": "delivery",
    "condition": "condition",
    "exit": "exit",
}


def new_step_id(definition: dict, kind: str) -> str:
    taken = set((definition or {}).get("steps") or {})
    prefix = PREFIX.get(kind, "step")
    numbers = [int(m.group(1)) for sid in taken if (m := re.fullmatch(rf"{prefix}-(\d+)", sid))]
    return f"{prefix}-{max(numbers, default=0) + 1}"


def add_step(definition: dict, *, step_id: str, step: dict, after: str = "", branch: str = "") -> dict:
    """The definition with `step` added on `after`'s `branch` (or first, when `after` is empty): the
    new step's main branch goes where that branch went, unless the step says otherwise."""
    result = copy.deepcopy(definition) if definition else {"start": "", "steps": {}}
    result.setdefault("steps", {})
    steps = result["steps"]
    if after:
        previous = steps[after].get(branch) or ""
        steps[after][branch] = step_id
    else:
        previous = result.get("start") or ""
        result["start"] = step_id
    step = dict(step)
    primary = PRIMARY.get(step.get("type"))
    if primary and previous and not step.get(primary):
        step[primary] = previous
    steps[step_id] = step
    return result


def replace_step(definition: dict, *, step_id: str, step: dict) -> dict:
    result = copy.deepcopy(definition)
    result["steps"][step_id] = dict(step)
    return prune(result)


def delete_step(definition: dict, *, step_id: str) -> tuple[dict, list[str]]:
    """The definition without the step: what led to it goes where its main branch went; the steps
    nothing leads to any more go with it. Returns (definition, every step id removed)."""
    result = copy.deepcopy(definition)
    steps = result["steps"]
    gone = steps.pop(step_id)
    heir = gone.get(PRIMARY.get(gone.get("type"), ""), "") or ""
    for step in steps.values():
        for name in BRANCHES.get(step.get("type"), ()):
            if step.get(name) == step_id:
                step[name] = heir
    if result.get("start") == step_id:
        result["start"] = heir
    pruned = prune(result)
    return pruned, [step_id, *sorted(set(steps) - set(pruned["steps"]))]


def prune(definition: dict) -> dict:
    """Only the steps reachable from the start (wait-for-delivery steps whose send went with them
    are left for the checks to name)."""
    start = definition.get("start")
    graph = steps_of(definition)
    if start not in graph:
        return {**definition, "start": "", "steps": {}}
    keep = set(reachable(graph, start))
    return {**definition, "steps": {sid: s for sid, s in definition["steps"].items() if sid in keep}}


def targets_for(definition: dict, step_id: str) -> list[str]:
    """The steps a branch of `step_id` may go to without making a loop: those that cannot reach it."""
    graph = steps_of(definition)
    if not graph:
        return []
    return [sid for sid in graph if sid != step_id and step_id not in reachable(graph, sid)]
