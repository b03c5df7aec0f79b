"""Voice benchmark: CPU and bandwidth per participant, and mouth-to-ear latency (docs/voice.md).

Starts a real vrcollab server on 127.0.0.1 (and, for the SFU rows, Debian's ``janus`` with the
config of ``vrcollab.voice.janus_process``), then N clients in one headless Chromium, each running
the real client code (``state/connection.js`` + ``voice/voice.js``, no 3D view) with a fake
microphone playing 200 ms tone bursts once a second. Mesh rows: one page per person, everyone
hears everyone. Janus rows with more than ``--listeners`` people (2 cores cannot decode 24 x 23
streams): every person publishes (a *speaker*), ``--listeners`` of them also subscribe to everyone
else; the other speakers share pages (``--per-page``) and subscribe to nobody, so Janus forwards
N x listeners streams, not N x (N - 1). After everyone is connected, it measures for
``--seconds``:

- server CPU (the vrcollab process: signalling only), janus CPU, Chromium CPU (all its
  processes; one browser for all clients, so "per participant" is the total over N), as % of
  one core;
- bandwidth per participant: RTP bytes sent + received by one client (getStats), kbit/s;
- mouth-to-ear latency: a burst's onset at the sender's microphone tap (Web Audio analyser on
  the captured track) to its onset in the receiver's decoded stream (analyser on the remote
  track), both stamped with the wall clock of this machine. Capture buffering before the tap and
  playout after the receiver's tap are not included (headless Chromium has no playout device).

Writes ``bench/results/voice.md``.

    python bench/voice_bench.py [--mesh 2,4,6] [--janus 6,12,24] [--seconds 10]
                                [--listeners 3] [--per-page 6]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.server_process import ServerProcess  # noqa: E402
from tests.web.voicekit import launch, write_tone  # noqa: E402

OUT = REPO / "bench" / "results" / "voice.md"

CLIENT_JS = (REPO / "bench" / "voice_bench_client.js").read_text()
START_JS = f"(args) => (window.__starts ??= []).push(({CLIENT_JS.strip()})(args)) - 1"


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _chromium() -> list[psutil.Process]:
    me = psutil.Process(os.getpid())
    return [p for p in me.children(recursive=True) if "chrom" in p.name().lower()]


def _bytes(stats: dict[str, Any]) -> float:
    return float(sum(v.get("bytes_received", 0) + v.get("bytes_sent", 0) for v in stats.values()))


class Client:
    """One bench client: its page, its index in the page, session id and whether it listens."""

    def __init__(self, page: Any, idx: int, sid: str, listen: bool) -> None:
        self.page, self.idx, self.sid, self.listen = page, idx, sid, listen

    def js(self, expr: str) -> Any:
        return self.page.evaluate(f"(b => {expr})(window.__benches[{self.idx}])")

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = self.js("b.voice.stats()")
        return out


def _connected(c: Client, sids: list[str]) -> bool:
    st = c.stats()
    sending = any(k.endswith(":out") and v.get("bytes_sent", 0) > 0 for k, v in st.items())
    if not c.listen:
        return sending
    heard = sum(1 for s in sids if s != c.sid and st.get(s, {}).get("bytes_received", 0) > 0)
    return heard == len(sids) - 1


def _wait_everyone(clients: list[Client], timeout: float) -> bool:
    sids = [c.sid for c in clients]
    deadline = time.monotonic() + timeout
    waiting = list(clients)
    while time.monotonic() < deadline:
        waiting = [c for c in waiting if not _connected(c, sids)]
        if not waiting:
            return True
        time.sleep(1.0)
    print(f"not connected: {[(c.sid, c.js('b.voice.describe()')) for c in waiting[:2]]}",
          flush=True)
    return False


def _latencies(clients: list[Client]) -> list[float]:
    onsets = [c.js("b.onsets") for c in clients]
    out = []
    for i, o in enumerate(onsets):
        for j, c in enumerate(clients):
            if i == j:
                continue
            sent = sorted(onsets[j]["mic"])
            for t in o["peers"].get(c.sid, []):
                before = [s for s in sent if s <= t]
                if before and t - before[-1] < 1000:
                    out.append(t - before[-1])
    return out


def run_case(playwright: Any, tone: Path, mode: str, n: int, seconds: float, tmp: Path, *,
             listeners: int = 3, per_page: int = 6) -> dict[str, Any]:
    janus = None
    env = {"VRCOLLAB_TICK_HZ": "20", "VRCOLLAB_VOICE_MESH_MAX_PEERS": str(max(n, 6)),
           "VRCOLLAB_MAX_SESSIONS_PER_MEMBER": "64"}
    if mode == "janus":
        from vrcollab.voice.janus_process import JanusProcess

        janus = JanusProcess(tmp / f"janus-{n}")
        env.update(janus.start().env())
    srv = ServerProcess(tmp / f"srv-{mode}-{n}", env=env)
    srv.start()
    browser = launch(playwright, tone)
    row: dict[str, Any] = {"mode": mode, "n": n}
    try:
        boot = srv.bootstrap()
        ws = f"ws://127.0.0.1:{srv.port}/ws/rooms/{boot.room_id}"
        clients: list[Client] = []
        case_deadline = time.monotonic() + 120 + 20 * n  # a case never hangs the run
        n_listen = n if mode == "mesh" or n <= listeners else listeners
        speaker_page: Any = None
        started: list[tuple[Any, int, bool]] = []
        for i in range(n):
            if time.monotonic() > case_deadline:
                raise TimeoutError(f"only {i} of {n} clients joined in time")
            listen = i < n_listen
            token = srv.token(boot.project_id, "reviewer", f"P{i}")
            if listen or speaker_page is None or \
                    sum(1 for s in started if s[0] is speaker_page) >= per_page:
                page = browser.new_context().new_page()
                page.goto(f"{srv.base_url}/app/styles.css")
                if not listen:
                    speaker_page = page
            else:
                page = speaker_page
            # start every client at once (a sequential join of 24 took minutes at load 40)
            k = page.evaluate(START_JS, [f"{ws}?token={token}", boot.room_id, f"P{i}", listen])
            started.append((page, k, listen))
        for page, k, listen in started:
            idx, sid = page.evaluate(f"window.__starts[{k}]")
            clients.append(Client(page, idx, sid, listen))
        row["listeners"] = n_listen
        row["pages"] = len({id(c.page) for c in clients})
        row["connected"] = _wait_everyone(clients, timeout=60 + 5 * n)
        time.sleep(2.0)
        procs_srv = [psutil.Process(srv.pid)] if srv.pid else []
        procs_janus = [psutil.Process(janus.proc.pid)] if janus and janus.proc else []
        chrome = _chromium()
        b0 = [_bytes(c.stats()) for c in clients]
        c0 = (_cpu(procs_srv), _cpu(procs_janus), _cpu(chrome))
        for c in clients:
            c.js("(b.onsets = { mic: [], peers: {} }, 0)")
        t0 = time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        c1 = (_cpu(procs_srv), _cpu(procs_janus), _cpu(chrome))
        b1 = [_bytes(c.stats()) for c in clients]
        lat = _latencies(clients)
        jb = []  # getStats: mean jitter-buffer delay of each inbound stream, ms
        for c in clients:
            for v in c.stats().values():
                if v.get("jitter_buffer_emitted"):
                    jb.append(1000 * v["jitter_buffer_delay"] / v["jitter_buffer_emitted"])
        rates = [(b - a) * 8 / wall / 1000 for a, b in zip(b0, b1, strict=True)]
        kbps = rates[:n_listen]
        row["kbps_speaker"] = statistics.median(rates[n_listen:]) if n > n_listen else None
        row.update(
            server_cpu=100 * (c1[0] - c0[0]) / wall,
            janus_cpu=100 * (c1[1] - c0[1]) / wall if janus else None,
            chromium_cpu=100 * (c1[2] - c0[2]) / wall,
            kbps=statistics.median(kbps),
            latency_p50=statistics.median(lat) if lat else None,
            latency_p95=sorted(lat)[int(len(lat) * 0.95)] if lat else None,
            latency_n=len(lat),
            jitter_ms=statistics.median(jb) if jb else None,
            load=os.getloadavg()[0],
        )
        for page in {id(c.page): c.page for c in clients}.values():
            page.context.close()
    finally:
        browser.close()
        srv.stop()
        if janus is not None:
            janus.stop()
    return row


def _fmt(v: Any, spec: str = ".0f") -> str:
    return "-" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mesh", default="2,4,6")
    ap.add_argument("--janus", default="6,12,24")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--listeners", type=int, default=3,
                    help="Janus rows: people who also subscribe to everyone")
    ap.add_argument("--per-page", type=int, default=6, help="speaker-only clients per page")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    cases = [("mesh", int(n)) for n in args.mesh.split(",") if n] + \
            [("janus", int(n)) for n in args.janus.split(",") if n]
    rows = []
    with tempfile.TemporaryDirectory() as d, sync_playwright() as pw:
        tmp = Path(d)
        tone = write_tone(tmp / "bursts.wav", seconds=4.0, gaps=True)
        for mode, n in cases:
            print(f"==> {mode} x{n}", flush=True)
            try:
                row = run_case(pw, tone, mode, n, args.seconds, tmp,
                               listeners=args.listeners, per_page=args.per_page)
            except Exception as exc:  # a case that cannot run on this machine is reported
                row = {"mode": mode, "n": n, "error": str(exc)[:200]}
            print(row, flush=True)
            rows.append(row)
    lines = [
        "# Voice benchmark (`python bench/voice_bench.py`)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.platform()}, "
        f"{os.cpu_count()} cores shared with other work; one headless Chromium holds every "
        "client (no 3D view); CPU in % of one core over the window. *speakers*: people "
        "publishing; *listeners*: those who also receive everyone (the rest receive nobody, "
        "Janus rows only); kbit/s: RTP sent + received by one listener (and by one "
        "speaker-only client).",
        "",
        "| transport | speakers | listeners | pages | everyone connected | vrcollab CPU | "
        "janus CPU | Chromium CPU (all clients) | kbit/s per listener | per speaker-only | "
        "latency p50 | p95 | onsets | jitter buffer | load |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['mode']} | {r['n']} | failed: {r['error']} |||||||||||||")
            continue
        lines.append(
            f"| {r['mode']} | {r['n']} | {r['listeners']} | {r['pages']} | "
            f"{'yes' if r['connected'] else 'no'} | "
            f"{_fmt(r['server_cpu'], '.1f')} % | {_fmt(r['janus_cpu'], '.1f')}"
            f"{' %' if r['janus_cpu'] is not None else ''} | {_fmt(r['chromium_cpu'])} % | "
            f"{_fmt(r['kbps'])} | {_fmt(r['kbps_speaker'])} | {_fmt(r['latency_p50'])} ms | "
            f"{_fmt(r['latency_p95'])} ms | "
            f"{r['latency_n']} | {_fmt(r['jitter_ms'])} ms | {r['load']:.1f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
