#!/usr/bin/env python3
"""Hierarchy roll-up benchmark: every KPI of every group of a 20,000-machine plant, from the live store.

The plant is ``bench/genfactory.py``'s, placed in an ISA-95 hierarchy (``hierarchical_plant``: areas of 10
lines, lines of 12 machines in 3 work cells of 4) — 1 enterprise, 1 site, 167 areas, 1,667 lines, 5,001 cells.
A state store holds every machine's State, Level, Power and Alarm, and every machine has an output rate.

- **roll-up** (the app): ``app.rollup.LiveRollup.update`` — reads the store's columns, integrates the time in
  each state and the energy, and sums every figure over every group (``app.rollup.figures.roll_up``).
- **baseline**: a plain ``np.sum`` of each of the same arrays over the whole plant (one total per KPI, no
  groups): what reading the figures costs at all.
- **tree**: building ``PlantTree`` from the factory (once per opened file or edit, not per update).
- **tree dock** (with a display, as ``make bench`` runs it under Xvfb; ``--no-gui`` leaves it out):
  opening the plant in the Factory dock (its lazy model, opened level by level) against a baseline built in
  the same run — the same rows as ``QStandardItem``s, opened as deep (how the dock held its rows before) —
  and one update of the group rows' live figures (roll-up and repaint).

Target: the roll-up under 50 ms (issue 18). Ends with one JSON line with ``targets``.

Usage: ``python bench/hierarchy.py [--machines 20000] [--repeats 30] [--no-gui]``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.model.factory import Factory  # noqa: E402
from app.model.hierarchy import Area, Cell, Hierarchy, Line, PlantTree  # noqa: E402
from app.rollup.live import LiveRollup  # noqa: E402
from app.state.store import StateStore  # noqa: E402
from bench._harness import emit, median_ms, ratio, repeat, timed  # noqa: E402
from bench.genfactory import LINE_LEN, generate  # noqa: E402

LINES_PER_AREA = 10
CELL_SIZE = 4
TARGET_MS = 50.0


def hierarchical_plant(n: int, seed: int = 0) -> Factory:
    """``genfactory.generate(n)`` with an ISA-95 hierarchy: areas of 10 lines, each line's 12 machines in
    work cells of 4 (line ``L<k>``, area ``A<k // 10>``, cell ``C<slot // 4>``)."""
    f = generate(n, seed)
    n_lines = -(-n // LINE_LEN)
    cells = [Cell(id=f"C{c}") for c in range(-(-LINE_LEN // CELL_SIZE))]
    areas = [
        Area(
            id=f"A{a}",
            name=f"Area {a + 1}",
            lines=[
                Line(id=f"L{k}", name=f"Line {k + 1}", cells=cells)
                for k in range(a * LINES_PER_AREA, min(n_lines, (a + 1) * LINES_PER_AREA))
            ],
        )
        for a in range(-(-n_lines // LINES_PER_AREA))
    ]
    machines = []
    for i, m in enumerate(f.machines):
        line, slot = divmod(i, LINE_LEN)
        machines.append(
            m.model_copy(update={"area": f"A{line // LINES_PER_AREA}", "line": f"L{line}", "cell": f"C{slot // CELL_SIZE}"})
        )
    h = Hierarchy(enterprise="Generated Corp", site="Generated site", areas=areas)
    return f.model_copy(update={"machines": machines, "hierarchy": h})


def live_store(f: Factory, now: float, seed: int = 0) -> tuple[StateStore, np.ndarray]:
    """A store with every machine's State, Level, Power and Alarm received at ``now``, and output rates."""
    rng = np.random.default_rng(seed)
    n = len(f.machines)
    store = StateStore([m.id for m in f.machines], ["State", "Level", "Power", "Alarm"])
    store.values[:, 0] = rng.integers(0, 5, n)
    store.values[:, 1] = rng.integers(0, 12, n)
    store.values[:, 2] = rng.uniform(2, 15, n)
    store.values[:, 3] = rng.random(n) < 0.02
    store.status[:] = 0
    store.received_ts[:] = now
    return store, rng.uniform(5, 30, n)


def _tree_dock(f: Factory) -> dict:
    """Open ``f`` in the Factory dock and in a plain QStandardItemModel of the same rows; one live update."""
    from PySide6 import QtGui, QtWidgets

    from app.model.machine_tree import ShownTree, tree_machine
    from app.model.selection import Selection
    from app.ui.tree_dock import FactoryTreeDock

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    dock = FactoryTreeDock(Selection())
    dock.resize(320, 700)
    dock.show()
    app.processEvents()
    open_s = timed(lambda: (dock.set_factory(f), app.processEvents()))
    store, rates = live_store(f, 100.0)

    def expanded_depth() -> int:
        d, index = -1, dock.tree.model().index(0, 0)
        while index.isValid() and dock.tree.isExpanded(index):
            d, index = d + 1, dock.tree.model().index(0, 0, index)
        return d

    depth = expanded_depth()

    def update() -> None:
        dock.model.set_figures(dock.rollup.update(store, 100.0, rates), dock._rows_on_screen())
        app.processEvents()

    update()
    figures_ms = median_ms(repeat(update, 5))
    # Baseline: every row as QStandardItems (name, id, kind) under the same groups, opened as deep.
    shown = ShownTree(PlantTree.of(f), [tree_machine(m) for m in f.machines])
    tree = QtWidgets.QTreeView()
    tree.resize(320, 700)
    tree.show()

    def standard_items() -> None:
        model = QtGui.QStandardItemModel(0, 3)

        def fill(parent: QtGui.QStandardItem, node: int) -> None:
            for child in shown.rows.get(node, ()):
                g = shown.group_of(child)
                if g is not None:
                    item = QtGui.QStandardItem(shown.tree.groups[g].name)
                    parent.appendRow([item, QtGui.QStandardItem(""), QtGui.QStandardItem("")])
                    fill(item, child)
                else:
                    m = shown.machines[shown.machine_of(child) or 0]
                    parent.appendRow([QtGui.QStandardItem(m.name), QtGui.QStandardItem(m.id), QtGui.QStandardItem(m.kind_label)])

        fill(model.invisibleRootItem(), 0)
        tree.setModel(model)
        tree.expandToDepth(depth) if depth >= 0 else None
        app.processEvents()

    base_s = timed(standard_items)
    dock.close()
    tree.close()
    return {
        "dock_open_ms": round(open_s * 1000, 1),
        "standard_items_open_ms": round(base_s * 1000, 1),
        "dock_vs_standard_items": ratio(open_s, base_s),
        "dock_figures_ms": figures_ms,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--machines", type=int, default=20_000)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--gui", action=argparse.BooleanOptionalAction, default=bool(os.environ.get("DISPLAY")),
                   help="also time the Factory dock (default: when there is a display)")
    args = p.parse_args(argv)
    f = hierarchical_plant(args.machines)
    tree_s = timed(lambda: PlantTree.of(f))
    rollup = LiveRollup(f)
    now = 1_000_000.0
    store, rates = live_store(f, now)
    counting = np.zeros(len(rates), dtype=bool)
    clock = iter(now + 0.1 * k for k in range(10 * args.repeats + 10))

    def update() -> None:
        t = next(clock)
        store.received_ts[:] = t
        rollup.update(store, t, rates, counting)

    def baseline() -> None:
        for col in range(store.values.shape[1]):
            np.sum(store.values[:, col])
        np.sum(rates)

    update()  # warm up (the first update integrates nothing)
    up = repeat(update, args.repeats)
    base = repeat(baseline, args.repeats)
    figures = {
        "machines": len(f.machines),
        "groups": rollup.tree.n_groups,
        "tree_build_ms": round(tree_s * 1000, 1),
        "rollup_ms": median_ms(up),
        "baseline_sum_ms": median_ms(base),
        "rollup_vs_sum": ratio(median_ms(up), median_ms(base)),
    }
    if args.gui:
        figures.update(_tree_dock(f))
    figures["targets"] = {
        "rollup_ms_lt_50": {"value": figures["rollup_ms"], "target": TARGET_MS, "met": figures["rollup_ms"] < TARGET_MS}
    }
    print(f"{figures['machines']} machines, {figures['groups']} groups; tree built in {figures['tree_build_ms']} ms")
    print(f"roll-up of every KPI over every group: {figures['rollup_ms']} ms (target < {TARGET_MS:g} ms)")
    print(f"plain np.sum of the same arrays:     {figures['baseline_sum_ms']} ms (roll-up = {figures['rollup_vs_sum']}× it)")
    if args.gui:
        print(f"Factory dock: opened in {figures['dock_open_ms']} ms; the same rows as QStandardItems "
              f"{figures['standard_items_open_ms']} ms (dock = {figures['dock_vs_standard_items']}× it); "
              f"a live update of its group rows {figures['dock_figures_ms']} ms")
    emit("hierarchy", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
