"""Checks a schema cannot express: unique ids and references between records."""

from __future__ import annotations

from app.model.assembly import assembly_problems
from app.model.factory import Distribution, Factory
from app.model.hierarchy import check_hierarchy
from app.model.kinds import get_kind, known_kinds
from app.model.problems import Problem, duplicate_ids
from app.model.routing import branch_problems


def _distribution(d: Distribution, path: str) -> list[Problem]:
    if d.kind == "empirical" and not d.samples_s:
        return [Problem(f"{path}.samples_s", "an empirical distribution needs at least one sample")]
    if d.kind == "lognormal" and d.cv <= 0:
        return [Problem(f"{path}.cv", "a lognormal distribution needs a coefficient of variation > 0")]
    return []


def check_factory(f: Factory) -> list[Problem]:
    """Every cross-reference problem in a factory that already passed schema validation.

    Returns an empty list for a consistent factory.
    """
    problems: list[Problem] = []
    problems += duplicate_ids((m.id for m in f.machines), "machines", "machine")
    problems += duplicate_ids((t.id for t in f.transports), "transports", "transport")
    problems += duplicate_ids((w.id for w in f.floor.walls), "floor.walls", "wall")
    problems += duplicate_ids((a.id for a in f.floor.aisles), "floor.aisles", "aisle")
    problems += duplicate_ids((z.id for z in f.floor.zones), "floor.zones", "zone")

    machine_ids = {m.id for m in f.machines}
    for i, m in enumerate(f.machines):
        if get_kind(m.kind) is None:  # asks the plugins that declare it (only those a file needs are loaded)
            known = ", ".join(sorted(known_kinds()))
            problems.append(Problem(f"machines[{i}].kind", f'unknown machine kind "{m.kind}" (known: {known})'))
        if m.asset not in f.assets:
            known = ", ".join(sorted(f.assets)) or "none"
            problems.append(Problem(f"machines[{i}].asset", f'unknown asset "{m.asset}" (the file defines: {known})'))
        if (m.sim.mtbf_s is None) != (m.sim.mttr_s is None):
            problems.append(Problem(f"machines[{i}].sim", "mtbf_s and mttr_s must be given together"))
        problems += _distribution(m.sim.cycle, f"machines[{i}].sim.cycle")

    for i, t in enumerate(f.transports):
        for end in ("from_machine", "to_machine"):
            ref = getattr(t, end)
            if ref not in machine_ids:
                problems.append(Problem(f"transports[{i}].{end}", f'unknown machine "{ref}"'))

    parts: dict[str, int] = {}
    for i, flow in enumerate(f.flows):
        if flow.part in parts:
            problems.append(
                Problem(f"flows[{i}].part", f'duplicate part type "{flow.part}" (first in flows[{parts[flow.part]}])')
            )
        parts.setdefault(flow.part, i)
        for j, ref in enumerate(flow.routing):
            if ref not in machine_ids:
                problems.append(Problem(f"flows[{i}].routing[{j}]", f'unknown machine "{ref}"'))
        problems += _distribution(flow.interarrival, f"flows[{i}].interarrival")
        problems += branch_problems(flow, f"flows[{i}]")
    problems += rework_problems(f)
    problems += assembly_problems(f)
    calendar = f.simulation.calendar
    for k, w in enumerate(calendar.maintenance if calendar is not None else []):
        for j, ref in enumerate(w.machines):
            if ref not in machine_ids:
                problems.append(Problem(f"simulation.calendar.maintenance[{k}].machines[{j}]", f'unknown machine "{ref}"'))
    problems += check_hierarchy(f)
    return problems


def rework_problems(f: Factory) -> list[Problem]:
    """Rework sent to an unknown machine, or to one that a routing passing the machine did not visit before it
    (the part would have no routing to follow from there)."""
    index = {m.id: i for i, m in enumerate(f.machines)}
    problems = []
    for i, m in enumerate(f.machines):
        rw = m.sim.rework
        if rw is None:
            continue
        if rw.to not in index:
            problems.append(Problem(f"machines[{i}].sim.rework.to", f'unknown machine "{rw.to}"'))
            continue
        for k, flow in enumerate(f.flows):
            for pos, ref in enumerate(flow.routing):
                if ref == m.id and rw.to not in flow.routing[: pos + 1]:
                    problems.append(
                        Problem(
                            f"machines[{i}].sim.rework.to",
                            f'"{rw.to}" is not on flows[{k}].routing before {m.id}: a reworked part goes back to a machine '
                            "its routing visited (or to this one) and follows its routing again from there",
                        )
                    )
                    break
    return problems


def batch_problems(f: Factory) -> list[Problem]:
    """Batch stations (``MachineSim.batch``) that could never gather a batch or mix with what they cannot do."""
    problems = []
    for i, m in enumerate(f.machines):
        s = m.sim
        if s.batch <= 1:
            continue
        if s.input_buffer < s.batch:
            problems.append(
                Problem(
                    f"machines[{i}].sim.input_buffer",
                    f"a batch of {s.batch} gathers in front of {m.id}: it needs at least {s.batch} places there, "
                    f"it has {s.input_buffer}",
                )
            )
        if s.assembly is not None:
            problems.append(
                Problem(f"machines[{i}].sim.batch", "an assembly station joins its bill of materials: it does not batch")
            )
        if s.rework is not None and s.rework.to == m.id:
            problems.append(
                Problem(
                    f"machines[{i}].sim.rework.to",
                    "a batch station's parts go on together: rework goes back to a machine before it, not to itself",
                )
            )
    return problems
