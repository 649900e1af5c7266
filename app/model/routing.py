"""A part flow's routing as a graph: after each step, the steps a part may go on to and their probabilities.

Without branches a routing is a line: step k goes on to step k + 1, the last step out of the line. A branch
(``PartFlow.branches``) replaces the way on after its step ``at`` by its options: other steps (an earlier one
makes a loop) or out of the line.

Examples
--------
>>> from app.model.factory import BranchOption, PartFlow, RouteBranch
>>> flow = PartFlow(part="p", routing=["CUT", "CNC-1", "CNC-2", "PACK"], branches=[
...     RouteBranch(at=0, to=[BranchOption(p=0.7, to=1), BranchOption(p=0.3, to=2)]),
...     RouteBranch(at=1, to=[BranchOption(p=1.0, to=3)])])
>>> successors(flow)
[[(0.7, 1), (0.3, 2)], [(1.0, 3)], [(1.0, 3)], [(1.0, -1)]]
>>> step_visits(flow)
[1.0, 0.7, 0.3, 1.0]
"""

from __future__ import annotations

from app.model.factory import EXIT, PartFlow, RouteBranch
from app.model.problems import Problem

#: The step index that stands for "out of the line" in ``successors``.
OUT = -1


def successors(flow: PartFlow) -> list[list[tuple[float, int]]]:
    """Per step of ``flow.routing``: (probability, next step) pairs, ``OUT`` for leaving the line. Branch
    targets past the routing's end are left out (``branch_problems`` names them)."""
    n = len(flow.routing)
    out: list[list[tuple[float, int]]] = [[(1.0, k + 1 if k + 1 < n else OUT)] for k in range(n)]
    for b in flow.branches:
        if b.at < n:
            out[b.at] = [(o.p, OUT if o.to == EXIT else int(o.to)) for o in b.to if o.to == EXIT or int(o.to) < n]
    return out


def step_visits(flow: PartFlow | None, moves: list[list[tuple[float, int]]] | None = None) -> list[float]:
    """Mean visits per part to each step (the traffic equations v = e₀ + v P, P from ``moves``, by default the
    routing's ``successors``): 1 on a line, the branch's probability on a branch, more in a loop."""
    import numpy as np

    if moves is None:
        assert flow is not None, "a flow or its moves"
        moves = successors(flow)
    n = len(moves)
    p = np.zeros((n, n))
    for k, outs in enumerate(moves):
        for q, j in outs:
            if j != OUT:
                p[k, j] += q
    start = np.zeros(n)
    start[0] = 1.0
    return [float(v) for v in np.linalg.solve(np.eye(n) - p.T, start)]


def trapped_steps(moves: list[list[tuple[float, int]]]) -> list[int]:
    """Steps a part reaches from the first but from which no way leads out of the line (a loop without exit)."""
    n = len(moves)
    reached, todo = {0}, [0]
    while todo:
        k = todo.pop()
        for q, j in moves[k]:
            if q > 0 and j != OUT and j not in reached:
                reached.add(j)
                todo.append(j)
    leaves = {k for k in range(n) if any(j == OUT and q > 0 for q, j in moves[k])}
    changed = True
    while changed:
        changed = False
        for k in range(n):
            if k not in leaves and any(q > 0 and j in leaves for q, j in moves[k]):
                leaves.add(k)
                changed = True
    return sorted(reached - leaves)


def branch_problems(flow: PartFlow, path: str) -> list[Problem]:
    """What is wrong with a flow's branches (``path``: the flow's field, ``flows[i]``): a step that does not
    exist, two branches after one step, a loop that parts cannot leave."""
    problems = []
    n = len(flow.routing)
    last = f"the routing has {n} step{'s' if n != 1 else ''} (0–{n - 1})" if n > 1 else "the routing has one step (0)"
    seen: dict[int, int] = {}
    for b, branch in enumerate(flow.branches):
        where = f"{path}.branches[{b}]"
        if branch.at >= n:
            problems.append(Problem(f"{where}.at", f"no step {branch.at}: {last}"))
        elif branch.at in seen:
            problems.append(Problem(f"{where}.at", f"step {branch.at} already branches (in {path}.branches[{seen[branch.at]}])"))
        seen.setdefault(branch.at, b)
        for o, option in enumerate(branch.to):
            if option.to != EXIT and int(option.to) >= n:
                problems.append(Problem(f"{where}.to[{o}].to", f'no step {option.to}: {last} (or "{EXIT}" to leave the line)'))
    if problems:
        return problems
    trapped = trapped_steps(successors(flow))
    if trapped:
        on_loop = [b for b, branch in enumerate(flow.branches) if branch.at in trapped]
        where = f"{path}.branches[{on_loop[0]}]" if on_loop else f"{path}.routing"
        steps = ", ".join(f"{k} ({flow.routing[k]})" for k in trapped)
        plural = "s" if len(trapped) > 1 else ""
        problems.append(Problem(where, f"a loop without exit: parts that reach step{plural} {steps} never leave the line"))
    return problems


def branches_without(flow: PartFlow, gone: set[str]) -> list[RouteBranch]:
    """``flow``'s branches once the steps at machines ``gone`` leave its routing: steps renumbered; a way to a
    step that went leads to the first step left after it (or out of the line); a branch after a step that went
    goes with it.

    >>> from app.model.factory import BranchOption, PartFlow, RouteBranch
    >>> flow = PartFlow(part="p", routing=["A", "B", "C", "D"],
    ...     branches=[RouteBranch(at=0, to=[BranchOption(p=0.5, to=1), BranchOption(p=0.5, to=3)])])
    >>> [(o.p, o.to) for o in branches_without(flow, {"B"})[0].to]
    [(0.5, 1), (0.5, 2)]
    """
    kept = [k for k, ref in enumerate(flow.routing) if ref not in gone]
    new_index = {k: n for n, k in enumerate(kept)}

    def target(to: int | str) -> int | str:
        if to == EXIT:
            return EXIT
        later = [new_index[k] for k in kept if k >= int(to)]
        return later[0] if later else EXIT

    return [
        b.model_copy(update={"at": new_index[b.at], "to": [o.model_copy(update={"to": target(o.to)}) for o in b.to]})
        for b in flow.branches
        if b.at in new_index
    ]
