"""Simulation results in SQLite: one row per replication as it finishes, so an interrupted run keeps
everything it finished. WAL journal: readers (the GUI) never block the writer."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from pathlib import Path

import numpy as np

from app.sim.engine import STATES, ReplicationResult
from app.sim.model import SimModel

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL, started REAL NOT NULL, finished REAL, status TEXT NOT NULL,
    horizon_s REAL NOT NULL, warmup_s REAL NOT NULL, seed INTEGER NOT NULL, replications INTEGER NOT NULL,
    sample_s REAL NOT NULL, parts TEXT NOT NULL, stations TEXT NOT NULL, message TEXT
);
CREATE TABLE IF NOT EXISTS replications (
    run_id INTEGER NOT NULL REFERENCES runs(run_id), replication INTEGER NOT NULL,
    measured_s REAL NOT NULL, events INTEGER NOT NULL, wall_s REAL NOT NULL, wip_area REAL NOT NULL,
    PRIMARY KEY (run_id, replication)
);
CREATE TABLE IF NOT EXISTS part_kpis (
    run_id INTEGER NOT NULL, replication INTEGER NOT NULL, part TEXT NOT NULL,
    throughput INTEGER NOT NULL, lead_time_sum_s REAL NOT NULL,
    order_lead_sum_s REAL, orders REAL, backlog_start REAL, backlog_end REAL, backlog_area REAL,
    scrap REAL, scrap_time_sum_s REAL, used REAL, used_time_sum_s REAL,
    PRIMARY KEY (run_id, replication, part)
);
CREATE TABLE IF NOT EXISTS machine_kpis (
    run_id INTEGER NOT NULL, replication INTEGER NOT NULL, machine TEXT NOT NULL,
    running_s REAL, setup_s REAL, starved_s REAL, blocked_s REAL, down_s REAL, off_shift_s REAL, maintenance_s REAL,
    operations INTEGER NOT NULL, energy_kwh REAL NOT NULL, wip_area REAL,
    shown_running_s REAL, shown_setup_s REAL, shown_starved_s REAL, shown_blocked_s REAL, shown_down_s REAL,
    shown_off_shift_s REAL, shown_maintenance_s REAL,
    PRIMARY KEY (run_id, replication, machine)
);
CREATE TABLE IF NOT EXISTS series (
    run_id INTEGER NOT NULL, replication INTEGER NOT NULL,
    t BLOB NOT NULL, wip BLOB NOT NULL, out BLOB NOT NULL, queue BLOB NOT NULL, state BLOB NOT NULL,
    PRIMARY KEY (run_id, replication)
);
"""


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (creating if needed) a results database in WAL mode."""
    con = sqlite3.connect(str(path), timeout=30)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.executescript(SCHEMA)
    _add_missing_columns(con)
    return con


#: Columns added since the first results files; older files get them (empty: NaN when read).
_ADDED_COLUMNS = {
    "part_kpis": (
        *("order_lead_sum_s", "orders", "backlog_start", "backlog_end", "backlog_area", "scrap", "scrap_time_sum_s"),
        *("used", "used_time_sum_s"),
    ),
    "machine_kpis": ("wip_area", "off_shift_s", "maintenance_s", *(f"shown_{n}_s" for n in STATES)),
}


def _add_missing_columns(con: sqlite3.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        have = {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
        for col in columns:
            if col not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {col} REAL")
    con.commit()


def _at(values, k: int) -> float | None:
    return float(values[k]) if k < len(values) else None


def _nan(x) -> float:
    return math.nan if x is None else float(x)


def _shown_books(rows: list) -> np.ndarray:
    """Seconds each station showed each state; empty (not known) for a file stored before they were kept."""
    shown = [[row[f"shown_{n}_s"] for n in STATES] for row in rows]
    if any(v is None for r in shown for v in r):
        return np.zeros((0, 0))
    return np.array(shown, dtype=float)


class ResultsWriter:
    """Writes one run: ``begin``, then ``add`` per finished replication (each its own transaction), ``end``."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.con = connect(self.path)
        self.run_id: int | None = None

    def begin(self, name: str, model: SimModel) -> int:
        with self.con:
            cur = self.con.execute(
                "INSERT INTO runs (name, started, status, horizon_s, warmup_s, seed, replications, sample_s, parts, stations)"
                " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    time.time(),
                    model.horizon_s,
                    model.warmup_s,
                    model.seed,
                    model.replications,
                    model.sample_s,
                    json.dumps(model.parts),
                    json.dumps([s.id for s in model.stations]),
                ),
            )
        assert cur.lastrowid is not None  # sqlite3 always sets it after a one-row INSERT
        self.run_id = cur.lastrowid
        return self.run_id

    def add(self, model: SimModel, r: ReplicationResult) -> None:
        rid = self.run_id
        with self.con:
            self.con.execute(
                "INSERT INTO replications VALUES (?, ?, ?, ?, ?, ?)",
                (rid, r.replication, r.measured_s, r.events, r.wall_s, r.wip_area),
            )
            self.con.executemany(
                "INSERT INTO part_kpis (run_id, replication, part, throughput, lead_time_sum_s, order_lead_sum_s, orders,"
                " backlog_start, backlog_end, backlog_area, scrap, scrap_time_sum_s, used, used_time_sum_s)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        rid,
                        r.replication,
                        p,
                        int(r.throughput[k]),
                        float(r.lead_time_sum_s[k]),
                        *(_at(x, k) for x in (r.order_lead_sum_s, r.orders, r.backlog_start, r.backlog_end, r.backlog_area)),
                        *(_at(x, k) for x in (r.scrap, r.scrap_time_sum_s)),
                        *(_at(x, k) for x in (r.used, r.used_time_sum_s)),
                    )
                    for k, p in enumerate(model.parts)
                ],
            )
            self.con.executemany(
                f"INSERT INTO machine_kpis (run_id, replication, machine, {', '.join(f'{n}_s' for n in STATES)},"
                f" operations, energy_kwh, wip_area, {', '.join(f'shown_{n}_s' for n in STATES)})"
                f" VALUES ({', '.join('?' * (2 * len(STATES) + 6))})",
                [
                    (
                        rid,
                        r.replication,
                        s.id,
                        *map(float, r.state_s[i]),
                        int(r.completed_ops[i]),
                        float(r.energy_kwh[i]),
                        _at(r.station_wip_area, i),
                        *(map(float, r.shown_state_s[i]) if len(r.shown_state_s) else [None] * len(STATES)),
                    )
                    for i, s in enumerate(model.stations)
                ],
            )
            self.con.execute(
                "INSERT INTO series VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    rid,
                    r.replication,
                    _blob(r.series_t),
                    _blob(r.series_wip),
                    _blob(r.series_out),
                    _blob(r.series_queue),
                    _blob(r.series_state),
                ),
            )

    def end(self, status: str = "done", message: str | None = None) -> None:
        with self.con:
            self.con.execute(
                "UPDATE runs SET finished = ?, status = ?, message = ? WHERE run_id = ?",
                (time.time(), status, message, self.run_id),
            )

    def close(self) -> None:
        self.con.close()


_BLOB_DTYPES = ("float64", "int32", "int16", "int8")


def _blob(a: np.ndarray) -> bytes:
    """An array as bytes after a one-line JSON header with its shape and type (little-endian)."""
    a = np.asarray(a)
    dtype = a.dtype.name if a.dtype.name in _BLOB_DTYPES else "float64"
    a = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<"))
    header = json.dumps({"shape": list(a.shape), "dtype": dtype}).encode() + b"\n"
    return header + a.tobytes()


def _unblob(b: bytes) -> np.ndarray:
    header, _, body = b.partition(b"\n")
    meta = json.loads(header)
    if isinstance(meta, list):  # written before types were kept: float64
        meta = {"shape": meta, "dtype": "float64"}
    if meta["dtype"] not in _BLOB_DTYPES:
        raise ValueError(f"unknown array type {meta['dtype']!r} in a results file")
    return np.frombuffer(body, dtype=np.dtype(meta["dtype"]).newbyteorder("<")).reshape(meta["shape"])


def load_run(path: str | os.PathLike[str], run_id: int | None = None) -> tuple[dict, list[ReplicationResult]]:
    """The run's row and its stored replications (the latest run when ``run_id`` is None)."""
    con = connect(path)
    try:
        con.row_factory = sqlite3.Row
        row = con.execute(
            "SELECT * FROM runs WHERE run_id = ?" if run_id else "SELECT * FROM runs ORDER BY run_id DESC LIMIT 1",
            (run_id,) if run_id else (),
        ).fetchone()
        if row is None:
            raise LookupError(f"{path}: no run {run_id or ''}".strip())
        run = dict(row)
        parts, stations = json.loads(run["parts"]), json.loads(run["stations"])
        out = []
        for rep in con.execute("SELECT * FROM replications WHERE run_id = ? ORDER BY replication", (run["run_id"],)):
            k = rep["replication"]
            pk = {
                r["part"]: r
                for r in con.execute("SELECT * FROM part_kpis WHERE run_id = ? AND replication = ?", (run["run_id"], k))
            }
            mk = {
                r["machine"]: r
                for r in con.execute("SELECT * FROM machine_kpis WHERE run_id = ? AND replication = ?", (run["run_id"], k))
            }
            se = con.execute("SELECT * FROM series WHERE run_id = ? AND replication = ?", (run["run_id"], k)).fetchone()
            out.append(
                ReplicationResult(
                    replication=k,
                    seed_entropy=0,
                    measured_s=rep["measured_s"],
                    throughput=[pk[p]["throughput"] for p in parts],
                    lead_time_sum_s=[pk[p]["lead_time_sum_s"] for p in parts],
                    wip_area=rep["wip_area"],
                    # a file from before the calendar has no planned stops: 0 s
                    state_s=np.array([[mk[m][f"{s}_s"] or 0.0 for s in STATES] for m in stations], dtype=float),
                    completed_ops=np.array([mk[m]["operations"] for m in stations]),
                    energy_kwh=np.array([mk[m]["energy_kwh"] for m in stations]),
                    events=rep["events"],
                    wall_s=rep["wall_s"],
                    series_t=_unblob(se["t"]),
                    series_wip=_unblob(se["wip"]),
                    series_out=_unblob(se["out"]),
                    series_queue=_unblob(se["queue"]),
                    series_state=_unblob(se["state"]).astype(np.int8),
                    station_wip_area=np.array([_nan(mk[m]["wip_area"]) for m in stations]),
                    order_lead_sum_s=[_nan(pk[p]["order_lead_sum_s"]) for p in parts],
                    orders=[_nan(pk[p]["orders"]) for p in parts],
                    backlog_start=[_nan(pk[p]["backlog_start"]) for p in parts],
                    backlog_end=[_nan(pk[p]["backlog_end"]) for p in parts],
                    backlog_area=[_nan(pk[p]["backlog_area"]) for p in parts],
                    # a file from before scrap was counted had none
                    scrap=[int(pk[p]["scrap"] or 0) for p in parts],
                    scrap_time_sum_s=[float(pk[p]["scrap_time_sum_s"] or 0.0) for p in parts],
                    # a file from before assembly stations had none used up
                    used=[int(pk[p]["used"] or 0) for p in parts],
                    used_time_sum_s=[float(pk[p]["used_time_sum_s"] or 0.0) for p in parts],
                    shown_state_s=_shown_books([mk[m] for m in stations]),
                )
            )
        return run, out
    finally:
        con.close()


def load_finished_run(path: str | os.PathLike[str], name: str) -> tuple[dict, list[ReplicationResult]]:
    """The latest finished run called ``name`` (as ``load_run``); ``LookupError`` when there is none."""
    con = connect(path)
    try:
        row = con.execute(
            "SELECT run_id FROM runs WHERE name = ? AND status = 'done' ORDER BY run_id DESC LIMIT 1", (name,)
        ).fetchone()
    finally:
        con.close()
    if row is None:
        raise LookupError(f"no finished run “{name}” in {Path(path).name}")
    return load_run(path, row[0])
