"""One measured phase: a fresh server, N clients in one room over several processes, a window.

Timeline: start server -> make the room -> start client processes (pinned to the client cores)
-> all connected -> broadcast the schedule -> warm-up -> window ``[m0, m1]`` in which the parent
samples the server's CPU time and RSS and the clients record arrivals -> stop -> merge.
Everything is bounded by timeouts and torn down in ``finally`` (workers are killed if late).
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

from .servers import SERVERS, ManagedServer, ServerError
from .stats import Histogram, merged
from .worker import ClientSpec, WorkerConfig, run_worker

CLIENTS_PER_PROCESS = 25


@dataclass(frozen=True)
class PhaseConfig:
    seconds: float = 10.0
    warmup: float = 2.0
    pose_hz: float = 30.0
    op_interval_s: float = 3.0
    probes: int = 32
    measuring: int = 24
    max_procs: int = 8
    server_cores: tuple[int, ...] | None = (0,)
    client_cores: tuple[int, ...] | None = (1,)
    connect_timeout_s: float = 30.0
    nice: int = 0
    vr_settings: tuple[tuple[str, str], ...] = ()  # vrcollab Settings overrides (env)


@dataclass
class PhaseResult:
    server: str
    n: int
    connected: int = 0
    measuring: int = 0
    seconds: float = 0.0
    pose_p50: float = math.nan
    pose_p99: float = math.nan
    pose_mean: float = math.nan
    pose_samples: int = 0
    ack_p50: float = math.nan
    ack_p99: float = math.nan
    commit_p50: float = math.nan
    commit_p99: float = math.nan
    op_samples: int = 0
    poses_sent: int = 0
    poses_delivered: int = 0
    delivery_ratio: float = math.nan
    messages_delivered: int = 0
    server_cpu_s: float = 0.0
    server_cpu_pct: float = 0.0
    cpu_wait_pct: float = math.nan
    cpu_us_per_msg: float = math.nan
    rss_mb: float = 0.0
    client_cpu_pct: float = 0.0
    send_lag_p99: float = math.nan
    reorders: int = 0
    rejects: int = 0
    errors: int = 0
    fragments: int = 0
    closes: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _probe_set(n: int, probes: int) -> set[int]:
    k = min(n, max(1, probes))
    return {int(i * n / k) for i in range(k)}


def _split(specs: list[ClientSpec], procs: int) -> list[tuple[ClientSpec, ...]]:
    return [tuple(specs[i::procs]) for i in range(procs)]


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def run_phase(server_name: str, n: int, cfg: PhaseConfig) -> PhaseResult:
    """Measure one server with ``n`` clients in one room (see module docstring)."""
    res = PhaseResult(server_name, n, seconds=cfg.seconds)
    server: ManagedServer = SERVERS[server_name](cfg.server_cores, cfg.nice, cfg.vr_settings)
    ctx = mp.get_context("fork")
    workers: list[Any] = []
    try:
        targets = server.room_targets(n)
        server.start()
        probes = _probe_set(n, cfg.probes)
        measuring = _probe_set(n, cfg.measuring)
        specs = [ClientSpec(i + 1, i in probes, i in measuring, targets[i]) for i in range(n)]
        nprocs = max(1, min(cfg.max_procs, math.ceil(n / CLIENTS_PER_PROCESS)))
        ready_q, result_q = ctx.Queue(), ctx.Queue()
        go_qs = [ctx.Queue() for _ in range(nprocs)]
        lifetime = cfg.connect_timeout_s + cfg.warmup + cfg.seconds + 30.0
        for i, part in enumerate(_split(specs, nprocs)):
            wc = WorkerConfig(server_name, "127.0.0.1", server.port, part, cfg.pose_hz,
                              cfg.op_interval_s, cfg.client_cores, cfg.connect_timeout_s,
                              lifetime, cfg.nice)
            w = ctx.Process(target=run_worker, args=(wc, ready_q, go_qs[i], result_q, i),
                            daemon=True, name=f"syncbench-{server_name}-{i}")
            w.start()
            workers.append(w)
        errors: set[str] = set()
        for _ in range(nprocs):
            _, _, ok, errs = ready_q.get(timeout=cfg.connect_timeout_s + 15.0)
            res.connected += ok
            errors.update(errs)
        if errors:
            res.notes.append("connect errors: " + "; ".join(sorted(errors))[:300])
        if res.connected == 0:
            raise ServerError(f"no client could join {server_name}: {sorted(errors)[:3]} "
                              f"{server.log_tail(500)}")
        start = time.time() + 0.3
        m0 = start + cfg.warmup
        m1 = m0 + cfg.seconds
        for q in go_qs:
            q.put((start, m0, m1, m1 + 0.3))
        wprocs = [psutil.Process(w.pid) for w in workers]
        time.sleep(max(0.0, m0 - time.time()))
        s_cpu0, c_cpu0, t0 = server.cpu_seconds(), _cpu(wprocs), time.time()
        wait0 = server.sched_wait_seconds()
        rss = server.rss_bytes()
        while time.time() < m1:
            time.sleep(min(0.25, max(0.0, m1 - time.time())))
            rss = max(rss, server.rss_bytes())
        s_cpu1, c_cpu1, t1 = server.cpu_seconds(), _cpu(wprocs), time.time()
        res.cpu_wait_pct = 100.0 * (server.sched_wait_seconds() - wait0) / max(t1 - t0, 1e-9)
        if not server.alive():
            raise ServerError(f"{server_name} died during the run: {server.log_tail(500)}")
        results = []
        for _ in range(nprocs):
            _, _, r = result_q.get(timeout=30.0)
            results.append(r)
        _fill(res, results, s_cpu1 - s_cpu0, c_cpu1 - c_cpu0, t1 - t0, rss,
              len(cfg.client_cores or ()) or 1)
    finally:
        for w in workers:
            w.join(timeout=3.0)
            if w.is_alive():
                w.kill()
                w.join(timeout=3.0)
        server.stop()
    return res


def _fill(res: PhaseResult, results: list[dict[str, Any]], server_cpu: float, client_cpu: float,
          wall: float, rss: int, client_cores: int) -> None:
    pose = merged(r["pose"] for r in results)
    ack = merged(r["ack"] for r in results)
    commit = merged(r["commit"] for r in results)
    lag: Histogram = merged(r["lag"] for r in results)
    res.pose_p50, res.pose_p99, res.pose_mean = (pose.percentile(50), pose.percentile(99),
                                                  pose.mean_ms())
    res.pose_samples = pose.count
    res.ack_p50, res.ack_p99 = ack.percentile(50), ack.percentile(99)
    res.commit_p50, res.commit_p99 = commit.percentile(50), commit.percentile(99)
    res.op_samples = ack.count
    res.send_lag_p99 = lag.percentile(99)
    for key in ("poses_sent", "poses_delivered", "reorders", "rejects", "errors", "fragments"):
        setattr(res, key, sum(int(r[key]) for r in results))
    for r in results:
        for code, c in r["closes"].items():
            res.closes[int(code)] = res.closes.get(int(code), 0) + int(c)
        if r["first_error"] and not any(x.startswith("server error") for x in res.notes):
            res.notes.append("server error: " + r["first_error"][:200])
    # deliveries are counted at the measuring receivers and scaled to the whole room (every
    # receiver gets the same broadcast minus its own poses)
    res.measuring = sum(int(r["measuring"]) for r in results)
    scale = res.connected / res.measuring if res.measuring else 0.0
    res.poses_delivered = round(res.poses_delivered * scale)
    expected = res.poses_sent * max(0, res.connected - 1)
    res.delivery_ratio = res.poses_delivered / expected if expected else math.nan
    ops_sent_total = sum(int(r["ops_sent"]) for r in results)
    res.messages_delivered = (res.poses_delivered + ops_sent_total
                              + round(commit.count * scale))
    res.server_cpu_s = server_cpu
    res.server_cpu_pct = 100.0 * server_cpu / wall if wall > 0 else 0.0
    res.cpu_us_per_msg = (1e6 * server_cpu / res.messages_delivered
                          if res.messages_delivered else math.nan)
    res.rss_mb = rss / 2**20
    res.client_cpu_pct = 100.0 * client_cpu / wall / client_cores if wall > 0 else 0.0
    if res.client_cpu_pct > 85.0:
        res.notes.append(f"clients busy {res.client_cpu_pct:.0f}% of their core(s): "
                         "latency includes client queueing")
    if res.closes:
        res.notes.append(f"unexpected closes {res.closes}")
    if res.cpu_wait_pct > 10.0 and res.server_cpu_pct < 50.0:
        res.notes.append(f"core contended by other jobs (server waited {res.cpu_wait_pct:.0f}% "
                         f"of the time while using {res.server_cpu_pct:.0f}%)")
    if res.poses_sent and not pose.count:
        res.notes.append("no timed pose arrived within the window (backlog longer than it)")
