"""A journey's steps as a graph (product.md Journeys): pure functions over the definition, no ORM.

A definition is {"start": STEP_ID, "steps": {STEP_ID: {"type": …, …}}}. Each step names the steps
its branches go to; a branch left empty ends the journey there. Types and their branches:
- send_sms, send_whatsapp: `next` (made and queued) and `not_sent` (the sending rule refused it,
  or the contact has no address for the channel; the reason is recorded);
- wait: `next`, after `seconds`, or at the next `until` ("HH:MM", Europe/Istanbul);
- wait_delivery: `delivered` as soon as the message of the send step `of` is delivered,
  `not_delivered` when it fails or when `seconds` pass without a delivery report;
- condition: `yes` / `no`, by the audience builder's conditions (messaging.segments) and/or whether
  the message of an earlier send step was delivered (`message`: {"of": STEP_ID, "state": …});
- exit: none.
A fallback is a wait_delivery whose not_delivered branch sends on the other channel (whose own
consent the sending rule checks when it sends). The graph has no loops, so every branch ends and a
contact passes each step at most once: (enrolment, step) is the key of what a step did."""

from __future__ import annotations

import re
from dataclasses import dataclass

SEND_SMS, SEND_WHATSAPP, WAIT, WAIT_DELIVERY, CONDITION, EXIT = (
    "send_sms",
    "send_whatsapp",
    "wait",
    "wait_delivery",
    "condition",
    "exit",
)
SENDS = (SEND_SMS, SEND_WHATSAPP)
BRANCHES = {
    SEND_SMS: ("next", "not_sent"),
    SEND_WHATSAPP: ("next", "not_sent"),
    WAIT: ("next",),
    WAIT_DELIVERY: ("delivered", "not_delivered"),
    CONDITION: ("yes", "no"),
    EXIT: (),
}
STEP_TYPES = tuple(BRANCHES)
STEP_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")
TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
MAX_STEPS = 100
MAX_WAIT_SECONDS = 366 * 24 * 3600
KINDS = ("newsletter", "transactional")
MESSAGE_STATES = ("delivered", "not_delivered")


@dataclass(frozen=True)
class Step:
    id: str
    type: str
    config: dict

    def branch(self, name: str) -> str:
        return self.config.get(name) or ""


def steps_of(definition: dict) -> dict[str, Step]:
    return {sid: Step(sid, s.get("type", ""), s) for sid, s in (definition.get("steps") or {}).items()}


def definition_problems(definition) -> list[str]:
    """What keeps the graph from running, in the marketer's words (empty: it can run). Checked on
    save and again on activation (journeys.services adds what needs the database: templates
    approved, accounts active)."""
    if not isinstance(definition, dict) or not isinstance(definition.get("steps"), dict):
        return ["the journey has no steps"]
    steps = definition["steps"]
    if not steps:
        return ["the journey has no steps"]
    if len(steps) > MAX_STEPS:
        return [f"a journey has at most {MAX_STEPS} steps"]
    problems: list[str] = []
    for sid, step in steps.items():
        if not STEP_ID.fullmatch(str(sid)):
            problems.append(f"'{str(sid)[:40]}' is not a step name: use letters, digits, '-' or '_'")
            continue
        if not isinstance(step, dict):
            problems.append(f"step {sid}: not a step")
            continue
        problems += [f"step {sid}: {p}" for p in _step_problems(step, steps)]
    start = definition.get("start")
    if start not in steps:
        problems.append("choose the first step")
        return problems
    if problems:
        return problems
    graph = steps_of(definition)
    if cycle := _cycle(graph, start):
        problems.append(f"the steps {' → '.join(cycle)} go round in a loop: a journey must end")
        return problems
    reached = reachable(graph, start)
    for sid in graph:
        if sid not in reached:
            problems.append(f"step {sid}: no branch leads to it")
    for sid, step in graph.items():
        of = step.config.get("of") if step.type == WAIT_DELIVERY else (step.config.get("message") or {}).get("of")
        if of and sid in reached and not _always_before(graph, start, of, sid):
            problems.append(f"step {sid}: the step {of} does not come before it on every path")
    return problems


def _step_problems(step: dict, steps: dict) -> list[str]:
    kind = step.get("type")
    if kind not in BRANCHES:
        return [f"'{kind}' is not a kind of step"]
    problems = []
    for branch in BRANCHES[kind]:
        target = step.get(branch) or ""
        if target and target not in steps:
            problems.append(f"the branch '{branch}' goes to a step that does not exist ({str(target)[:40]})")
    if kind in SENDS:
        if step.get("kind", "newsletter") not in KINDS:
            problems.append("the kind is newsletter or transactional")
        if kind == SEND_SMS and not (str(step.get("text") or "").strip() or step.get("template")):
            problems.append("write the text or choose an SMS template")
        if kind == SEND_WHATSAPP and not step.get("template"):
            problems.append("choose an approved WhatsApp template")
    elif kind == WAIT:
        seconds, until = step.get("seconds"), step.get("until")
        if (seconds is None) == (not until):
            problems.append("wait either a number of seconds or until a time of day")
        elif until and not TIME_OF_DAY.fullmatch(str(until)):
            problems.append(f"'{until}' is not a time of day (HH:MM)")
        elif seconds is not None and not _seconds_ok(seconds):
            problems.append(f"a wait is 1 second to {MAX_WAIT_SECONDS // 86400} days")
    elif kind == WAIT_DELIVERY:
        of = step.get("of")
        if of not in steps or (steps.get(of) or {}).get("type") not in SENDS:
            problems.append("choose the send step whose delivery it waits for")
        if not _seconds_ok(step.get("seconds")):
            problems.append(f"the waiting time is 1 second to {MAX_WAIT_SECONDS // 86400} days")
    elif kind == CONDITION:
        from messaging.segments import definition_problems as condition_problems

        conditions, message = step.get("conditions"), step.get("message")
        has_conditions = isinstance(conditions, dict) and bool(conditions.get("conditions"))
        if not has_conditions and not message:
            problems.append("add at least one condition")
        if has_conditions:
            problems += condition_problems(conditions)
        if message:  # "this SMS": the message of an earlier send step was (not) delivered
            if not isinstance(message, dict) or (steps.get(message.get("of")) or {}).get("type") not in SENDS:
                problems.append("choose the send step whose message it looks at")
            elif message.get("state") not in MESSAGE_STATES:
                problems.append("choose delivered or not delivered")
    return problems


def _seconds_ok(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_WAIT_SECONDS


def successors(step: Step) -> list[str]:
    return [t for b in BRANCHES.get(step.type, ()) if (t := step.branch(b))]


def reachable(graph: dict[str, Step], start: str) -> list[str]:
    """The steps reachable from `start`, in the order a breadth-first walk meets them."""
    seen, queue = [start], [start]
    while queue:
        for target in successors(graph[queue.pop(0)]):
            if target not in seen:
                seen.append(target)
                queue.append(target)
    return seen


def _cycle(graph: dict[str, Step], start: str) -> list[str]:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(sid: str) -> list[str]:
        state[sid] = 1
        path.append(sid)
        for target in successors(graph[sid]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[sid] = 2
        return []

    return visit(start)


def _always_before(graph: dict[str, Step], start: str, before: str, sid: str) -> bool:
    """Every path from start to `sid` passes `before` (it dominates `sid`)."""
    if before == sid:
        return False
    if start == before:
        return True
    if start == sid:
        return False
    blocked = {before}
    seen, queue = {start}, [start]
    while queue:
        for target in successors(graph[queue.pop(0)]):
            if target == sid:
                return False
            if target not in seen and target not in blocked:
                seen.add(target)
                queue.append(target)
    return True


def layers(definition: dict) -> list[list[str]]:
    """The steps by depth from the start (longest path), for the diagram: each row one layer."""
    graph = steps_of(definition)
    start = definition.get("start")
    if start not in graph or _cycle(graph, start):
        return [list(graph)]
    order = reachable(graph, start)
    depth = {start: 0}
    for _ in range(len(order)):  # longest path in a DAG: relax as many times as there are steps
        for sid in order:
            for target in successors(graph[sid]):
                if sid in depth and depth.get(target, -1) < depth[sid] + 1:
                    depth[target] = depth[sid] + 1
    rows: dict[int, list[str]] = {}
    for sid in order:
        rows.setdefault(depth.get(sid, 0), []).append(sid)
    unreached = [sid for sid in graph if sid not in depth]
    return [rows[d] for d in sorted(rows)] + ([unreached] if unreached else [])
