"""The append-only event log both the watchdog and the deployments keep."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from app.history.event_log import EventLog, read_events

SCHEMA = "CREATE TABLE IF NOT EXISTS things (t REAL NOT NULL, what TEXT NOT NULL, size REAL);"


@dataclass(frozen=True)
class Thing:
    t: float
    what: str
    size: float | None


def test_entries_from_several_threads_are_all_committed_and_read_back_in_order(tmp_path):
    path = tmp_path / "h.sqlite"
    log: EventLog[Thing] = EventLog(path, "things", SCHEMA)

    def write(k: int) -> None:
        for i in range(50):
            log.append(Thing(k * 100 + i, f"w{k}", None))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # committed at once: another connection sees every entry before the log is closed
    rows = read_events(path, "things", Thing, order="t")
    assert len(rows) == 200 and rows[0] == Thing(0.0, "w0", None) and rows[-1].t == 349.0
    log.close()


def test_a_file_without_the_table_reads_as_no_entries(tmp_path):
    path = tmp_path / "other.sqlite"
    EventLog(path, "things", SCHEMA).close()
    assert read_events(path, "elsewhere", Thing) == []
