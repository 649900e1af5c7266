"""Checks of assembly stations (``MachineSim.assembly``): a bill of materials of known part types whose
routings bring them there, the others' routings ending there, no quality loop through it."""

from __future__ import annotations

from app.model.factory import Factory
from app.model.problems import Problem
from app.model.routing import OUT, successors


def assembly_problems(f: Factory) -> list[Problem]:
    """Every problem of the factory's assembly stations (empty: none, or all consistent)."""
    problems: list[Problem] = []
    flow_of = {flow.part: k for k, flow in enumerate(f.flows)}
    known = ", ".join(flow_of) or "none"
    assemblies = {m.id for m in f.machines if m.sim.assembly is not None}
    for i, m in enumerate(f.machines):
        a = m.sim.assembly
        if m.sim.rework is not None and m.sim.rework.to in assemblies:
            problems.append(
                Problem(f"machines[{i}].sim.rework.to", f"{m.sim.rework.to} is an assembly station: rework cannot go back to it")
            )
        if a is None:
            continue
        where = f"machines[{i}].sim.assembly"
        if m.sim.scrap or m.sim.rework is not None:
            problems.append(
                Problem(f"machines[{i}].sim", "an assembly station has no scrap or rework (check its parts before it)")
            )
        seen: set[str] = set()
        for j, line in enumerate(a.bom):
            if line.part in seen:
                problems.append(Problem(f"{where}.bom[{j}].part", f'part type "{line.part}" is already in the bill of materials'))
                continue
            seen.add(line.part)
            k = flow_of.get(line.part)
            if k is None:
                problems.append(Problem(f"{where}.bom[{j}].part", f'unknown part type "{line.part}" (the flows define: {known})'))
                continue
            flow = f.flows[k]
            steps = [s for s, ref in enumerate(flow.routing) if ref == m.id]
            if not steps:
                problems.append(
                    Problem(f"{where}.bom[{j}].part", f"flows[{k}].routing ({line.part}) does not bring it to {m.id}")
                )
            elif len(steps) > 1:
                problems.append(
                    Problem(f"flows[{k}].routing", f"visits the assembly station {m.id} twice: a part is assembled once")
                )
            elif j > 0 and successors(flow)[steps[0]] != [(1.0, OUT)]:
                problems.append(
                    Problem(
                        f"flows[{k}].routing",
                        f"{line.part} parts are used up at the assembly station {m.id}: their routing ends there",
                    )
                )
        for k, flow in enumerate(f.flows):
            if flow.part not in seen and m.id in flow.routing:
                bom = ", ".join(line.part for line in a.bom)
                step = flow.routing.index(m.id)
                problems.append(
                    Problem(
                        f"flows[{k}].routing[{step}]",
                        f"{m.id} assembles {bom}: part type {flow.part} is not in its bill of materials",
                    )
                )
    return problems
