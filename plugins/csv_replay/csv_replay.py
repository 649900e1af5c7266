"""CSV replay: a floortwin data source that plays a file of recorded values back as live data.

Connect (Live ▸ Connect…) to ``csv:///path/to/values.csv`` — optionally ``?speed=10`` (times real time)
and ``&loop=0`` (stop at the end instead of starting over). The file has a header and one value per row::

    t,node,value
    0.0,ns=2;s=Machines/CNC-01/State,running
    0.0,ns=2;s=Machines/CNC-01/Temperature,41.5
    2.5,ns=2;s=Machines/CNC-01/Temperature,42.0

``t`` is in seconds (from any origin), ``node`` is the node id a machine's signal is bound to in the
factory file, ``value`` a number or text; an optional ``status`` column holds OPC UA status codes. Rows for
nodes no machine is bound to are ignored; a value that cannot be read is skipped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import math
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from app.live.client import LinkState
from app.state.store import Update


def read_rows(path: Path) -> tuple[list[tuple[float, str, object, int]], int]:
    """(t, node, value, status) sorted by time, and how many rows could not be read."""
    rows, bad = [], 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"t", "node", "value"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}; expected t,node,value")
        for row in reader:
            try:
                t = float(row["t"])
                if not math.isfinite(t):
                    raise ValueError
                raw = (row["value"] or "").strip()
                try:
                    value: object = float(raw)
                except ValueError:
                    value = raw
                status = int(row.get("status") or 0)
            except (TypeError, ValueError):
                bad += 1
                continue
            rows.append((t, row["node"].strip(), value, status))
    rows.sort(key=lambda r: r[0])
    return rows, bad


class CsvReplayClient:
    """The live client's interface over a CSV file (runs on the network thread's asyncio loop)."""

    def __init__(self, settings, on_values, on_state=None, on_binding_error=None):
        url = urlparse(settings.endpoint)
        self.path = Path(unquote(url.path))
        query = parse_qs(url.query)
        self.speed = float(query.get("speed", ["1"])[0])
        self.loop = query.get("loop", ["1"])[0] not in ("0", "false", "no")
        if not (math.isfinite(self.speed) and self.speed > 0):
            raise ValueError(f"speed must be > 0, got {self.speed}")
        self.on_values = on_values
        self.on_state = on_state or (lambda s, m: None)
        self.on_binding_error = on_binding_error or (lambda k, m: None)
        self.state = LinkState.DISCONNECTED
        self.client = None  # nothing to browse
        self._by_node: dict[str, list[int]] = {}
        self._task: asyncio.Task | None = None
        self.skipped = 0

    def set_bindings(self, bindings) -> None:
        self._by_node = {}
        for index, node in bindings:
            self._by_node.setdefault(node, []).append(index)

    def _set(self, state: LinkState, message: str) -> None:
        self.state = state
        self.on_state(state, message)

    def start(self) -> asyncio.Task:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._set(LinkState.DISCONNECTED, "replay stopped")

    async def _run(self) -> None:
        self._set(LinkState.CONNECTING, f"reading {self.path.name}")
        try:
            rows, self.skipped = await asyncio.get_running_loop().run_in_executor(None, read_rows, self.path)
        except (OSError, ValueError, csv.Error) as e:
            self._set(LinkState.FAILED, f"cannot replay {self.path}: {e}")
            return
        if not rows:
            self._set(LinkState.FAILED, f"{self.path.name} holds no values")
            return
        bound = {n for _t, n, _v, _s in rows} & set(self._by_node)
        for node, indices in self._by_node.items():
            if node not in bound:
                for k in indices:
                    self.on_binding_error(k, f"no values for {node} in {self.path.name}")
        self._set(LinkState.CONNECTED, f"replaying {self.path.name} at {self.speed:g}×")
        while True:
            t0, wall0 = rows[0][0], time.monotonic()
            k = 0
            while k < len(rows):
                t = rows[k][0]
                delay = wall0 + (t - t0) / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                now = time.time()
                batch = []
                while k < len(rows) and rows[k][0] == t:
                    _t, node, value, status = rows[k]
                    for index in self._by_node.get(node, ()):
                        batch.append(Update(index, value, status, now, now))
                    k += 1
                if batch:
                    self.on_values(batch)
            if not self.loop:
                self._set(LinkState.DISCONNECTED, f"end of {self.path.name}")
                return
            await asyncio.sleep(0.05)


def register(api) -> None:
    api.add_data_source("csv", "CSV replay", CsvReplayClient)
