"""Benchmark: one queued deployment of N sites (default 2000) run by 1, 2 and 4 `mistctl worker` processes.

The twin is served over HTTP with 50 ms latency (a fresh twin per run, so every run does the same work);
one redis-server holds the state and the queue. The clock runs from queueing the run to its end, so it
covers the worker side: plan, org-level steps, claims, the site jobs and the finish. Printed side by side:
wall time, speed-up against one worker, sites/s, calls, CPU of the workers and of the twin, and the floor
that latency alone sets (calls x latency / jobs in flight). "site jobs ms/site" is the workers' CPU from the
moment the deploy job has queued the sites to the run's end, per site: what a site job costs (goal: 5 ms).
The summary splits where the time goes: the deploy job's serial seconds (and its CPU), the site jobs' CPU
per site, the Redis round trips per site (reads the redis-server served in the sites phase) and the twin's
CPU per site.

`--compare-src DIR` runs the workers from another src right after this one's, for each worker count (e.g.
main's: /work/wt/base/src); `--repeat N` runs everything N times and prints medians (the shared machine is
noisy); `--py-spy FILE` samples the one-worker case with py-spy (raw stacks; CPU only: `--gil`).

    .venv/bin/python bench/bench_workers.py [--sites 2000] [--latency-ms 50] [--jobs 16] [--workers 1 2 4]
        [--compare-src DIR] [--repeat N] [--py-spy FILE | --profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import yaml
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.redis_server import redis_server  # noqa: E402
from tests.support.twin import parse_ready_line, read_ready_line, stop_process, twin_command  # noqa: E402
from tests.support.workers import CLI, claim_codes, fleet_data, mistctl_env, running_worker  # noqa: E402

from mist_twin.config import TwinConfig  # noqa: E402
from mistctl.domain.parse import parse_fleet  # noqa: E402
from mistctl.scaleout.queue import RunBook, open_queue  # noqa: E402
from mistctl.store.factory import open_store  # noqa: E402
from mistctl.store.models import Run  # noqa: E402
from mistctl.workflow.deploy import fleet_hash  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
GOAL_MS, GOAL_SPEEDUP = 5, 1.8  # issue #16
PY_SPY = os.environ.get("PY_SPY", "/tmp/prof/venv/bin/py-spy")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@contextmanager
def served_twin(config: TwinConfig) -> Iterator[tuple[str, str, str, int]]:
    """The twin as a process (its pid too, for its CPU time): url, org id, token, pid."""
    proc = subprocess.Popen(twin_command(config, via_cli=False), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        url, org_id, token = parse_ready_line(read_ready_line(proc, 30))
        yield url, org_id, token, proc.pid
    finally:
        stop_process(proc)
        if proc.stdout is not None:
            proc.stdout.close()


async def deploy_and_wait(state_url: str, data: dict[str, Any], org_id: str, token: str,
                          on_deployed: Callable[[], None]) -> tuple[float, Run, float]:
    """Queue the fleet as a run (as `apply --queue` does) and wait for its end.

    Wall seconds, the run, and the seconds its deploy job took (plan, org level, claims, queueing the sites:
    one worker's serial part) as seen when the run's site total appears, when `on_deployed` is called.
    """
    fleet = parse_fleet(yaml.safe_dump(data, sort_keys=False), source="bench")
    async with open_store(state_url) as store:
        start = time.perf_counter()
        run = await store.create_run(Run(kind="apply", org_id=org_id, fleet_hash=fleet_hash(fleet)))
        async with open_queue(store) as queue:
            await queue.submit(run, fleet, [SecretStr(token)], concurrency=8)
        book = RunBook(store, run.id)  # type: ignore[arg-type]
        deployed = 0.0
        while not run.is_terminal:
            await asyncio.sleep(0.1)
            run = await book.run() or run  # without the plan: get_run would load megabytes each time
            if not deployed and "sites_total" in await store.incr_run_counts(run.id, {}):
                deployed = time.perf_counter() - start
                on_deployed()
        run = await store.get_run(run.id) or run
        return time.perf_counter() - start, run, deployed


@contextmanager
def py_spy(pid: int, out: Path) -> Iterator[None]:
    """A sampling profile (py-spy, raw stacks) of a running worker, written to `out` when it stops."""
    spy = subprocess.Popen([PY_SPY, "record", "--pid", str(pid), "-r", "250", "-f", "raw", "-o", str(out),
                            "--nonblocking", "--gil"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached
    try:
        yield
    finally:
        spy.send_signal(2)  # SIGINT: py-spy writes its file and exits
        spy.wait(timeout=60)


def redis_pid(redis_url: str) -> int:
    """The redis-server's process id (for its CPU time)."""
    import redis

    with redis.Redis.from_url(redis_url) as r:
        return int(r.info("server")["process_id"])


def redis_reads(redis_url: str) -> int:
    """Reads the redis-server has served so far (INFO stats `total_reads_processed`): one per round trip a
    client makes (a pipeline or a MULTI/EXEC is one), its benchmark's own polling included."""
    import redis

    with redis.Redis.from_url(redis_url) as r:
        return int(r.info("stats")["total_reads_processed"])


def one_run(redis_url: str, workers: int, args: argparse.Namespace, tmp: Path,
            src: tuple[str, Path] = ("this src", ROOT / "src")) -> dict[str, Any]:
    config = TwinConfig(latency_ms=args.latency_ms, rate_limit=1_000_000, device_count=args.sites + 10)
    with ExitStack() as stack:
        url, org_id, token, twin_pid = stack.enter_context(served_twin(config))
        env = mistctl_env(url, token, org_id, f"{redis_url}?prefix=bw-{uuid4().hex[:8]}:",
                          MIST_RATE_LIMIT="1000000", MIST_READ_TIMEOUT="120", PYTHONPATH=str(src[1]))
        profiled = args.profile is not None and workers == 1 and src[0] == "this src"
        cli = [sys.executable, "-m", "cProfile", "-o", str(args.profile), "-m", "mistctl"] if profiled else CLI
        procs = [stack.enter_context(running_worker(env, tmp, "--concurrency", str(args.jobs), "--log-level",
                                                    "warning", label=f"w{workers}-{i}", cli=cli))
                 for i in range(workers)]
        data = fleet_data(args.sites, claim_codes(url, args.sites))
        rpid = redis_pid(redis_url)
        if args.py_spy is not None and workers == 1 and src[0] == "this src":
            stack.enter_context(py_spy(procs[0].proc.pid, args.py_spy))
        cpu0 = [cpu_seconds(p.proc.pid) for p in procs], cpu_seconds(twin_pid), cpu_seconds(rpid)
        def workers_cpu() -> float:
            return sum(cpu_seconds(p.proc.pid) - c for p, c in zip(procs, cpu0[0], strict=True))

        at_deploy: list[tuple[float, float, int]] = []  # workers' CPU, twin's CPU, Redis reads
        wall, run, deployed = asyncio.run(deploy_and_wait(
            env["MISTCTL_STATE"], data, org_id, token,
            lambda: at_deploy.append((workers_cpu(), cpu_seconds(twin_pid), redis_reads(redis_url)))))
        worker_cpu = workers_cpu()
        twin_now, reads_now = cpu_seconds(twin_pid), redis_reads(redis_url)
        at = at_deploy[0] if at_deploy else (0.0, cpu0[1], reads_now)
        twin_cpu = twin_now - cpu0[1]
        redis_cpu = cpu_seconds(rpid) - cpu0[2]
        calls = httpx.get(f"{url}/__twin/counters", timeout=30).json()["total"]
    return {"src": src[0], "workers": workers, "wall": wall, "deploy": deployed, "status": run.status,
            "counts": run.counts, "calls": calls, "worker_cpu": worker_cpu, "site_cpu": worker_cpu - at[0],
            "deploy_cpu": at[0], "twin_cpu": twin_cpu, "twin_site_cpu": twin_now - at[1],
            "site_reads": reads_now - at[2], "redis_cpu": redis_cpu}


COLUMNS = ("src", "workers", "wall s", "speed-up", "deploy s", "sites s", "sites/s", "sites x", "calls",
           "floor s", "worker CPU s", "deploy CPU s", "site jobs ms/site", "redis trips/site", "twin CPU s",
           "twin ms/site", "redis CPU s", "status")


def row(r: dict[str, Any], base: tuple[float, float], args: argparse.Namespace) -> list[str]:
    """One run's figures: the floor is calls x latency / jobs in flight (what latency alone allows); `base`:
    the wall and sites-phase seconds of the fewest workers (the speed-ups are against those)."""
    sites = r["wall"] - r["deploy"]
    floor = r["calls"] * args.latency_ms / 1000 / (r["workers"] * args.jobs)
    done = r["counts"].get("sites_done", 0)
    return [r["src"], str(r["workers"]), f"{r['wall']:.1f}", f"{base[0] / r['wall']:.2f}x", f"{r['deploy']:.1f}",
            f"{sites:.1f}", f"{args.sites / sites:.0f}", f"{base[1] / sites:.2f}x", str(r["calls"]),
            f"{floor:.1f}", f"{r['worker_cpu']:.1f}", f"{r['deploy_cpu']:.1f}",
            f"{1000 * r['site_cpu'] / args.sites:.2f}", f"{r['site_reads'] / args.sites:.1f}",
            f"{r['twin_cpu']:.1f}", f"{1000 * r['twin_site_cpu'] / args.sites:.2f}",
            f"{r['redis_cpu']:.1f}", f"{r['status']} ({done} done)"]


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"{args.sites} sites, twin over HTTP with {args.latency_ms:.0f} ms latency, {args.jobs} site jobs "
          f"at once per worker, {os.cpu_count()} CPU cores on this machine (load before: {args.load})")
    one = {(r["src"], r["rep"]): (r["wall"], r["wall"] - r["deploy"]) for r in results
           if r["workers"] == min(args.workers)}
    rows = [list(COLUMNS), *(row(r, one[r["src"], r["rep"]], args) for r in results)]
    widths = [max(len(x[i]) for x in rows) for i in range(len(COLUMNS))]
    for cells in rows:
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    what = f"medians of {args.repeat} runs" if args.repeat > 1 else "summary"
    print(f"{what} (goals: site jobs at most "
          f"{GOAL_MS} ms of CPU per site; {GOAL_SPEEDUP}x with 2 workers):")
    for src in dict.fromkeys(r["src"] for r in results):
        def med(n: int, figure: Callable[[dict[str, Any]], float], src: str = src) -> float:
            return statistics.median(figure(r) for r in results if r["src"] == src and r["workers"] == n)

        walls = {n: med(n, lambda r: r["wall"]) for n in args.workers}
        sites = {n: med(n, lambda r: r["wall"] - r["deploy"]) for n in args.workers}
        for n in args.workers:
            print(f"  {src:>11}  {n} worker(s): wall {walls[n]:.1f} s ({walls[min(walls)] / walls[n]:.2f}x; "
                  f"the sites alone {sites[min(sites)] / sites[n]:.2f}x); deploy job "
                  f"{med(n, lambda r: r['deploy']):.1f} s serial ({med(n, lambda r: r['deploy_cpu']):.1f} s CPU); "
                  "site jobs "
                  f"{med(n, lambda r: 1000 * r['site_cpu'] / args.sites):.2f} ms of CPU per site, "
                  f"{med(n, lambda r: r['site_reads'] / args.sites):.1f} Redis round trips per site; twin "
                  f"{med(n, lambda r: 1000 * r['twin_site_cpu'] / args.sites):.2f} ms of CPU per site")
    last = results[-1]
    cpu = last["worker_cpu"] + last["twin_cpu"] + last["redis_cpu"]
    busy = 100 * cpu / last["wall"] / (os.cpu_count() or 1)
    print(f"with {last['workers']} workers the machine's CPU was {busy:.0f}% busy (workers, twin, redis); "
          "deploy s: the run's deploy job (plan, org level, claims, queueing), on one worker; sites x: the "
          "sites phase against the fewest workers'; Redis round trips: reads redis-server served in the "
          "sites phase (its polling by workers and by this script included)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=2000)
    ap.add_argument("--latency-ms", type=float, default=50)
    ap.add_argument("--jobs", type=int, default=16, help="site jobs at once per worker")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--profile", type=Path, help="run the 1-worker case under cProfile, its stats to this file, "
                                                  "and print where the worker's time goes")
    ap.add_argument("--compare-src", type=Path, help="also run the workers from this src (e.g. main's), "
                                                      "each worker count right after this src's")
    ap.add_argument("--repeat", type=int, default=1, help="run everything this many times (medians printed)")
    ap.add_argument("--py-spy", type=Path, help="sample the 1-worker case with py-spy (raw stacks to this file)")
    args = ap.parse_args()
    args.load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    srcs = [("this src", ROOT / "src")] + ([("compare-src", args.compare_src)] if args.compare_src else [])
    with redis_server() as redis_url, tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        # alternated, so the shared machine's noise falls on both sources alike
        results = [{**one_run(redis_url, n, args, Path(tmp), src), "rep": rep}
                   for rep in range(args.repeat) for n in args.workers for src in srcs]
    report(results, args)
    if args.profile is not None and 1 in args.workers:
        where_time_goes(args.profile, args.sites)


# What a worker's CPU goes to, by the functions that own it (cumulative time of each; they overlap).
BUCKETS = (
    ("Mist calls (aiohttp: request, response)", "mist/aio.py", "send"),
    ("Redis round trips (redis-py execute_command)", "redis/asyncio/client.py", "execute_command"),
    ("Redis pipelines / scripts (redis-py)", "redis/asyncio/client.py", "execute"),
    ("arq: polling, starting and finishing jobs", "arq/worker.py", "start_jobs"),
    ("job payloads: SiteJob from JSON", "workflow/site_job.py", "from_json"),
    ("run-book writes (mark_done, events)", "scaleout/queue.py", "mark_done"),
    ("held records and budget batches (one MULTI)", "store/redis_batch.py", "write_batch"),
    ("lock renewals", "scaleout/locks.py", "renew_run_locks"),
    ("site step records (store writes)", "workflow/records.py", "step_done"),
    ("site states (store writes)", "workflow/records.py", "site_status"),
    ("JSON (json.dumps/loads)", "json/__init__.py", "loads"),
    ("pydantic validation", "~", "<method 'validate_python'"),
)


def where_time_goes(path: Path, sites: int) -> None:
    """Per site, the CPU of the profiled single worker in the functions that matter (cProfile's cumtime)."""
    import pstats

    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, _), (_, _, tt, _, _) in stats.items())
    print(f"where one worker's time goes (cProfile, {total:.1f} s of function time; ms per site, cumulative, "
          "so rows overlap):")
    for label, file, name in BUCKETS:
        cum = sum(ct for (f, _, fn), (_, _, _, ct, _) in stats.items() if f.endswith(file) and fn.startswith(name))
        calls = sum(nc for (f, _, fn), (_, nc, _, _, _) in stats.items() if f.endswith(file) and fn.startswith(name))
        print(f"  {label:<48} {1000 * cum / sites:7.2f} ms/site  ({calls / sites:.1f} calls/site)")


if __name__ == "__main__":
    main()
