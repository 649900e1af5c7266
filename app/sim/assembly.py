"""Assembly stations as the engine runs them: a kit buffer per line of the bill of materials.

Each line of an assembly station's bill of materials (``Station.bom``: part type, how many) gets a buffer of
its own, which the engine treats as a station without servers, numbered after the real ones: the parts of that
type are routed to it instead of to the assembly station, wait there (blocking upstream when it is full: it
holds ``n`` × (servers + input buffer) of them), and a kit complete in every buffer goes onto a free server of
the assembly station. So the engine's ordinary place-keeping, blocking and waiting serve the kits too, and a
model without assembly stations runs exactly as before.

Examples
--------
>>> from app.model.io import load_factory
>>> from app.paths import DEMO_FACTORY
>>> from app.sim.model import compile_model
>>> m = compile_model(load_factory(DEMO_FACTORY))
>>> k = kit_buffers(m)
>>> k.owner, k.routes == m.routes, k.held([1] * len(m.stations)) == [1] * len(m.stations)
([], True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.sim.model import SimModel


@dataclass
class KitBuffers:
    """The kit buffers of a model's assembly stations.

    ``routes``: the model's routes with each step at an assembly station replaced by the kit buffer of that
    part type; ``owner[b]``: the assembly station of kit buffer ``ns + b``; ``capacity[b]``: its places;
    ``lines[a]``: (kit buffer, parts per kit) of assembly station ``a``, its first line's part going on.
    """

    stations: int
    routes: list[list[int]]
    owner: list[int] = field(default_factory=list)
    capacity: list[int] = field(default_factory=list)
    lines: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    is_assembly: list[bool] = field(default_factory=list)
    #: Batch stations (``app.sim.batch``): one buffer for all part types, of ``input_buffer`` places, whose
    #: ``n`` parts go onto a server together and all go on; they gather as kits do (``is_assembly`` is set).
    batched: list[bool] = field(default_factory=list)

    def held(self, per_station: list) -> list:
        """A per-station list (parts held, places, time integrals) with each kit buffer's added to its assembly
        station's, as one station shows it."""
        out = list(per_station[: self.stations])
        for b, a in enumerate(self.owner):
            out[a] += per_station[self.stations + b]
        return out


def kit_buffers(model: SimModel) -> KitBuffers:
    """The kit buffers of ``model``'s assembly stations (none: the routes as they are)."""
    ns = len(model.stations)
    kits = KitBuffers(
        ns,
        [list(r) for r in model.routes],
        is_assembly=[bool(s.bom) or s.batch > 1 for s in model.stations],
        batched=[s.batch > 1 for s in model.stations],
    )
    for a, s in enumerate(model.stations):
        if s.batch > 1:  # one buffer in front, for every part type routed there
            b = ns + len(kits.owner)
            kits.owner.append(a)
            kits.capacity.append(s.buffer)
            kits.lines[a] = [(b, s.batch)]
            kits.routes = [[b if i == a else i for i in route] for route in kits.routes]
            continue
        if not s.bom:
            continue
        buffer_of = {}
        for k, n in s.bom:
            buffer_of[k] = ns + len(kits.owner)
            kits.owner.append(a)
            kits.capacity.append(n * (s.servers + s.buffer))
        kits.lines[a] = [(buffer_of[k], n) for k, n in s.bom]
        for k, route in enumerate(kits.routes):
            if k in buffer_of:
                kits.routes[k] = [buffer_of[k] if i == a else i for i in route]
    return kits
