"""Finding OPC UA for Machinery machines (OPC 40001-1) on a connected asyncua client, bounded and cancellable.

The Machines folder (``nsu=http://opcfoundation.org/UA/Machinery/;i=1001``) is browsed level by level, many nodes
per Browse request; folders under it are the hierarchy, other objects are machines. Below each machine the
browse goes ``Limits.depth`` levels deep through objects only, asks for at most ``Limits.children`` references
per node (a node with 100,000 children costs one request and is reported), visits each node once (a browse loop
ends) and stops at ``Limits.nodes`` nodes in all. What a machine is comes from the names found:
Identification/{Manufacturer, Model, SerialNumber, Location}, MachineryItemState and MachineryOperationMode's
CurrentState, and a parts counter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from asyncua import Client, ua

MACHINERY: str = "http://opcfoundation.org/UA/Machinery/"
MACHINES_FOLDER_ID = 1001
FOLDER_TYPE = ua.NodeId(ua.Int32(ua.ObjectIds.FolderType))
#: Identification properties read for the preview; the first three are mandatory (MachineIdentificationType).
IDENTIFICATION = ("Manufacturer", "SerialNumber", "ProductInstanceUri", "Model", "Location")
MANDATORY_IDENTIFICATION = IDENTIFICATION[:3]
#: Names servers give a produced-parts counter, bound as floortwin's PartCount.
COUNTER_NAMES = ("PartsProduced", "ProducedParts", "PartCount", "PartsCount", "GoodParts", "ProductionCount")
#: Signal → (the browse path's end that holds it, its state mapping).
STATE_SIGNALS = {
    "State": (("MachineryItemState", "CurrentState"), "machinery-item-state"),
    "OperationMode": (("MachineryOperationMode", "CurrentState"), "machinery-operation-mode"),
}


@dataclass(frozen=True)
class Limits:
    """How far a discovery may go: nodes in all, references per node, levels below a machine, levels of
    folders, nodes per request and the whole time."""

    nodes: int = 500_000
    children: int = 1_000
    depth: int = 3
    folder_depth: int = 4
    batch: int = 500
    timeout_s: float = 300.0


@dataclass(frozen=True)
class FoundMachine:
    """One machine as the server describes it: its node, the folders above it, what identifies it, the
    signals it can be bound to (``nsu=`` node ids) with their state mappings, and what is wrong with it."""

    node_id: str
    name: str
    group: tuple[str, ...]
    identification: dict[str, str]
    bindings: dict[str, str]
    states: dict[str, str]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class Discovery:
    """What a discovery found: the machines, problems of the server as a whole, nodes browsed, and whether it
    ran to the end (False: cancelled, timed out, or a limit stopped it)."""

    machines: tuple[FoundMachine, ...]
    problems: tuple[str, ...]
    nodes_browsed: int
    complete: bool
    namespaces: tuple[str, ...] = ()


class Cancelled(Exception):
    """The user cancelled the discovery."""


@dataclass
class _Machine:
    node: ua.NodeId
    name: str
    group: tuple[str, ...]
    paths: dict[tuple[str, ...], tuple[ua.NodeId, ua.NodeClass]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


Progress = Callable[[int, str], None]


class _Browser:
    def __init__(self, client: Client, limits: Limits, cancelled: Callable[[], bool], progress: Progress):
        self.client, self.limits, self.cancelled, self.progress = client, limits, cancelled, progress
        self.seen: set[ua.NodeId] = set()
        self.browsed = 0
        self.stopped = ""

    async def children(self, nodes: list[ua.NodeId]) -> list[tuple[list[ua.ReferenceDescription], bool]]:
        """Each node's hierarchical children (objects and variables): the references, and whether there were more."""
        out: list[tuple[list[ua.ReferenceDescription], bool]] = []
        for start in range(0, len(nodes), self.limits.batch):
            if self.cancelled():
                raise Cancelled
            chunk = nodes[start : start + self.limits.batch]
            params = ua.BrowseParameters()
            params.View = ua.ViewDescription()
            params.RequestedMaxReferencesPerNode = self.limits.children
            params.NodesToBrowse = [
                ua.BrowseDescription(
                    NodeId=n,
                    BrowseDirection=ua.BrowseDirection.Forward,
                    ReferenceTypeId=ua.NodeId(ua.Int32(ua.ObjectIds.HierarchicalReferences)),
                    IncludeSubtypes=True,
                    NodeClassMask=ua.NodeClass.Object | ua.NodeClass.Variable,
                    ResultMask=ua.BrowseResultMask.All,
                )
                for n in chunk
            ]
            results = await self.client.uaclient.browse(params)
            points = [r.ContinuationPoint for r in results if r.ContinuationPoint]
            if points:  # more than we asked for: let the server forget them instead of paging through
                await self.client.uaclient.browse_next(
                    ua.BrowseNextParameters(ReleaseContinuationPoints=True, ContinuationPoints=points)
                )
            for r in results:
                refs = list(r.References or []) if r.StatusCode.is_good() else []
                out.append((refs[: self.limits.children], bool(r.ContinuationPoint) or len(refs) > self.limits.children))
            self.browsed += len(chunk)
            self.progress(self.browsed, f"{self.browsed:,} nodes browsed")
        return out

    def first_visit(self, node: ua.NodeId) -> bool:
        if node in self.seen:
            return False
        if len(self.seen) >= self.limits.nodes:
            self.stopped = f"stopped at {self.limits.nodes:,} nodes (the browse limit): some machines may be missing"
            return False
        self.seen.add(node)
        return True


async def discover(
    client: Client,
    limits: Limits | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Progress = lambda _n, _text: None,
) -> Discovery:
    """The machines of the server ``client`` is connected to.

    Raises ``Cancelled`` when ``cancelled()`` turns true; a timeout ends the discovery with what was found so
    far (``complete`` False). Server faults (a missing child, a loop, too many references) become problems.
    """
    limits = limits or Limits()
    try:
        return await asyncio.wait_for(_discover(client, limits, cancelled, progress), limits.timeout_s)
    except asyncio.TimeoutError:
        return Discovery((), (f"the server did not finish answering within {limits.timeout_s:g} s",), 0, False)


async def _discover(client: Client, limits: Limits, cancelled: Callable[[], bool], progress: Progress) -> Discovery:
    namespaces = tuple(await client.get_namespace_array())
    if MACHINERY not in namespaces:
        return Discovery(
            (),
            ("the server has no OPC UA for Machinery namespace (" + MACHINERY + "): no machines to find",),
            0,
            True,
            namespaces,
        )
    browser = _Browser(client, limits, cancelled, progress)
    root = ua.NodeId(ua.Int32(MACHINES_FOLDER_ID), ua.Int16(namespaces.index(MACHINERY)))
    browser.first_visit(root)
    machines = await _find_machines(browser, root)
    await _explore(browser, machines)
    found = await _recognise(client, machines, namespaces)
    problems = [browser.stopped] if browser.stopped else []
    return Discovery(tuple(found), tuple(problems), browser.browsed, not browser.stopped, namespaces)


async def _find_machines(browser: _Browser, root: ua.NodeId) -> list[_Machine]:
    machines: list[_Machine] = []
    level: list[tuple[ua.NodeId, tuple[str, ...]]] = [(root, ())]
    for _depth in range(browser.limits.folder_depth):
        if not level:
            break
        answers = await browser.children([n for n, _g in level])
        deeper = []
        for (_node, group), (refs, more) in zip(level, answers, strict=True):
            if more:
                where = "/".join(group) or "the Machines folder"
                browser.stopped = (
                    browser.stopped or f"{where} has more than {browser.limits.children:,} entries: only the first looked at"
                )
            for ref in refs:
                if ref.NodeClass != ua.NodeClass.Object or not browser.first_visit(_plain(ref.NodeId)):
                    continue
                name = ref.BrowseName.Name or str(ref.NodeId)
                if _plain(ref.TypeDefinition) == FOLDER_TYPE:
                    deeper.append((_plain(ref.NodeId), (*group, name)))
                else:
                    machines.append(_Machine(_plain(ref.NodeId), name, group))
        level = deeper
    return machines


def _plain(node: ua.ExpandedNodeId | ua.NodeId) -> ua.NodeId:
    return ua.NodeId(node.Identifier, node.NamespaceIndex, node.NodeIdType)


async def _explore(browser: _Browser, machines: list[_Machine]) -> None:
    """Each machine's objects and variables down to ``depth`` levels, all machines one level per round."""
    level: list[tuple[_Machine, ua.NodeId, tuple[str, ...]]] = [(m, m.node, ()) for m in machines]
    for _depth in range(browser.limits.depth):
        if not level:
            return
        answers = await browser.children([n for _m, n, _p in level])
        deeper = []
        for (machine, _node, path), (refs, more) in zip(level, answers, strict=True):
            if more:
                machine.problems.append(
                    f"{'/'.join(path) or 'it'} has more than {browser.limits.children:,} children: only the first looked at"
                )
            for ref in refs:
                node = _plain(ref.NodeId)
                if not browser.first_visit(node):
                    continue
                child = (*path, ref.BrowseName.Name)
                machine.paths.setdefault(child, (node, ref.NodeClass))
                if ref.NodeClass == ua.NodeClass.Object:
                    deeper.append((machine, node, child))
        level = deeper


def _ending(machine: _Machine, end: tuple[str, ...], node_class: ua.NodeClass) -> ua.NodeId | None:
    hits = [(len(p), n) for p, (n, c) in machine.paths.items() if p[-len(end) :] == end and c == node_class]
    return min(hits, key=lambda h: h[0])[1] if hits else None


async def _recognise(client: Client, machines: list[_Machine], namespaces: tuple[str, ...]) -> list[FoundMachine]:
    reads: list[tuple[int, str, ua.NodeId]] = []
    plan: list[tuple[dict[str, ua.NodeId], dict[str, str]]] = []
    for i, m in enumerate(machines):
        bindings: dict[str, ua.NodeId] = {}
        states: dict[str, str] = {}
        for signal, (end, mapping) in STATE_SIGNALS.items():
            node = _ending(m, end, ua.NodeClass.Variable)
            if node is not None:
                bindings[signal], states[signal] = node, mapping
                reads.append((i, signal, node))
        counter = next((n for name in COUNTER_NAMES if (n := _ending(m, (name,), ua.NodeClass.Variable)) is not None), None)
        if counter is not None:
            bindings["PartCount"] = counter
        has_identification = any(p[-2:-1] == ("Identification",) for p in m.paths)
        for prop in IDENTIFICATION:
            node = _ending(m, ("Identification", prop), ua.NodeClass.Variable)
            if node is not None:
                reads.append((i, prop, node))
            elif prop in MANDATORY_IDENTIFICATION and has_identification:
                m.problems.append(f"Identification has no {prop} (mandatory)")
        if not has_identification:
            m.problems.append("no Identification: manufacturer, model and serial number unknown")
        if "State" not in bindings:
            m.problems.append("no MachineryItemState/CurrentState: its state cannot be bound")
        plan.append((bindings, states))
    values: dict[tuple[int, str], object] = {}
    for start in range(0, len(reads), 1000):
        chunk = reads[start : start + 1000]
        got = await client.uaclient.read_attributes([n for _i, _k, n in chunk], ua.AttributeIds.Value)
        for (i, key, _n), dv in zip(chunk, got, strict=True):
            if dv.StatusCode is None or dv.StatusCode.is_good():
                values[(i, key)] = dv.Value.Value if dv.Value is not None else None
    found = []
    for i, (m, (bindings, states)) in enumerate(zip(machines, plan, strict=True)):
        identification = {}
        for prop in IDENTIFICATION:
            value = values.get((i, prop))
            text = value.Text if isinstance(value, ua.LocalizedText) else value
            if text not in (None, ""):
                identification[prop] = str(text)
        for signal in STATE_SIGNALS:
            value = values.get((i, signal))
            if signal in bindings and value is not None and not isinstance(value, ua.LocalizedText):
                m.problems.append(
                    f"{signal}'s CurrentState is a {type(value).__name__}, not a LocalizedText: bound with the auto mapping"
                )
                states[signal] = "auto"
        found.append(
            FoundMachine(
                node_id=portable(m.node, namespaces),
                name=m.name,
                group=m.group,
                identification=identification,
                bindings={s: portable(n, namespaces) for s, n in bindings.items()},
                states=states,
                problems=tuple(m.problems),
            )
        )
    return found


def portable(node: ua.NodeId, namespaces: tuple[str, ...]) -> str:
    """``nsu=<namespace URI>;…`` as bindings are saved (namespace 0 stays ``i=…``).

    >>> portable(ua.NodeId("Machines/M1", 2), ("http://opcfoundation.org/UA/", "urn:a", "urn:b"))
    'nsu=urn:b;s=Machines/M1'
    """
    text = node.to_string()
    if node.NamespaceIndex == 0 or node.NamespaceIndex >= len(namespaces):
        return text
    return f"nsu={namespaces[node.NamespaceIndex]};{text.split(';', 1)[1]}"
