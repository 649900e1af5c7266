"""Background jobs: real worker processes side by side, progress, cancel, a crash and out-of-memory, Dask."""

from __future__ import annotations

import os
import signal
import time

import pytest

from app.model.io import load_factory
from app.paths import DEMO_FACTORY
from app.sim.jobs import JobQueue, run_replications_dask
from app.sim.model import compile_model
from app.sim.results import load_run


@pytest.fixture(scope="module")
def demo():
    return load_factory(DEMO_FACTORY)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def test_jobs_run_side_by_side_and_keep_their_results(demo, tmp_path):
    model = compile_model(demo, horizon_s=2 * 86400, replications=3)
    changes = []
    q = JobQueue(on_change=changes.append, cores=2)
    a = q.submit("A", [("baseline", model), ("scenario", model)], tmp_path / "a.sqlite")
    b = q.submit("B", [("baseline", model)], tmp_path / "b.sqlite")
    assert q.wait(120)
    assert a.status == b.status == "done" and a.progress == b.progress == 1.0
    assert a.worker_pids and b.worker_pids and not (a.worker_pids & b.worker_pids)  # processes of their own
    assert a.first_progress is not None and a.first_progress >= a.submitted
    run, reps = load_run(tmp_path / "a.sqlite", a.run_ids["scenario"])
    assert run["status"] == "done" and len(reps) == 3
    assert [r.completed_ops.tolist() for r in reps] == [r.completed_ops.tolist() for r in a.results["scenario"]]
    assert any(j is a and 0 < j.progress < 1 for j in changes) or a.progress == 1.0
    # processes are kept for the next job, and stopped when the queue shuts down
    c = q.submit("C", [("baseline", model)], tmp_path / "c.sqlite")
    assert q.wait(120) and c.status == "done"
    assert c.worker_pids == a.worker_pids  # A's two workers, kept (B's single one made way)
    q.shutdown()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in a.worker_pids | b.worker_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in a.worker_pids | b.worker_pids)


def test_cancel_ends_the_job_and_frees_its_processes_at_once(demo, tmp_path):
    model = compile_model(demo, horizon_s=300 * 86400, replications=2)  # minutes of work
    q = JobQueue(cores=2)
    job = q.submit("long", [("baseline", model)], tmp_path / "c.sqlite")
    deadline = time.monotonic() + 30
    while not job.worker_pids and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.status == "running" and job.worker_pids
    t = time.monotonic()
    q.cancel(job)
    assert q.wait(15)
    assert job.status == "cancelled"
    while any(_alive(p) for p in job.worker_pids) and time.monotonic() - t < 5:
        time.sleep(0.05)
    assert not any(_alive(p) for p in job.worker_pids)  # gone within the wait above
    run, _ = load_run(tmp_path / "c.sqlite")
    assert run["status"] == "cancelled"


def test_a_crashed_process_fails_its_job_only(demo, tmp_path):
    long = compile_model(demo, horizon_s=300 * 86400, replications=1)
    short = compile_model(demo, horizon_s=3 * 86400, replications=4)
    q = JobQueue(cores=2)
    victim = q.submit("victim", [("baseline", long)], tmp_path / "v.sqlite")
    other = q.submit("other", [("baseline", short)], tmp_path / "o.sqlite")
    deadline = time.monotonic() + 30
    while not victim.worker_pids and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in victim.worker_pids:
        os.kill(pid, signal.SIGKILL)  # what the kernel's OOM killer (or a segfault) does
    assert q.wait(120)
    assert victim.status == "failed" and "died" in victim.message
    assert other.status == "done" and len(load_run(tmp_path / "o.sqlite")[1]) == 4
    assert load_run(tmp_path / "v.sqlite")[0]["status"] == "failed"


def test_out_of_memory_is_reported(demo, tmp_path):
    # one-second samples of every station over 20 days: about 2 GB of time series
    model = compile_model(demo, horizon_s=20 * 86400, replications=1, sample_s=1.0)
    q = JobQueue(cores=1, memory_limit_mb=150)
    job = q.submit("tiny memory", [("baseline", model)], tmp_path / "m.sqlite")
    assert q.wait(60)
    assert job.status == "failed" and "out of memory" in job.message, job.message
    assert load_run(tmp_path / "m.sqlite")[0]["status"] == "failed"


def test_dask_local_cluster_runs_the_same_replications(demo, tmp_path):
    distributed = pytest.importorskip("distributed")
    model = compile_model(demo, horizon_s=2 * 86400, replications=3)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        progress = []
        results = run_replications_dask(model, cluster.scheduler_address, progress=progress.append)
        q = JobQueue(dask_address=cluster.scheduler_address)
        job = q.submit("on dask", [("baseline", model)], tmp_path / "d.sqlite")
        assert q.wait(120) and job.status == "done", job.message
    local = JobQueue(cores=2)
    ref = local.submit("local", [("baseline", model)], tmp_path / "l.sqlite")
    assert local.wait(120)
    # the same seeds: the same numbers, wherever they ran
    assert [r.completed_ops.tolist() for r in results] == [r.completed_ops.tolist() for r in ref.results["baseline"]]
    assert [r.completed_ops.tolist() for r in job.results["baseline"]] == [
        r.completed_ops.tolist() for r in ref.results["baseline"]
    ]
    assert progress[0] == 0.0 and progress[-1] == 1.0
