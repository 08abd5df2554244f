"""Load test of ``grok watch`` (prints figures; not a timed test).

1. Live: N runs (default 200), each appended 10 rows/s by a separate writer process; the
   console runs headless with one live run selected (so its plots redraw every tick).
   Prints the median cost of a refresh tick (reader poll + UI update) and the latency from
   a row's write to the moment the console shows it (table cell and plot).
2. Big: 1,000 finished runs × 10,000 rows. Prints the time to the first screen (table
   filled, the selected run's plots drawn) and the resident memory.

    PYTHONPATH=. python bench/watch_load.py            # ≈ 1–2 minutes
    PYTHONPATH=. python bench/watch_load.py --live-seconds 60 --real-files

The big set's histories are hard links to one file unless ``--real-files`` (3 GB of disk):
the console reads only summaries and the last 16 KB of each at start, so it sees the same.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.tui.fakeruns import curve_row, make_run  # noqa: E402

SIZE = (120, 40)


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


# -- live load -------------------------------------------------------------------------------
def writer(run_dirs: list[str], rows_per_s: float, seconds: float, start_epoch: int) -> None:
    """Append one row per run every 1/rows_per_s seconds; each row carries its write time."""
    handles = [open(Path(d) / "results" / "history.jsonl", "a") for d in run_dirs]
    period = 1.0 / rows_per_s
    epoch = start_epoch
    t_end = time.time() + seconds
    next_t = time.time()
    while time.time() < t_end:
        for fh in handles:
            row = curve_row(epoch, grok_at=None)
            row["written"] = time.time()
            fh.write(json.dumps(row) + "\n")
            fh.flush()
        epoch += 1
        next_t += period
        time.sleep(max(0.0, next_t - time.time()))
    for fh in handles:
        fh.close()


def live_bench(n_runs: int, rows_per_s: float, seconds: float, refresh: float) -> dict:
    from grokconsole.tui.app import WatchApp
    from grokconsole.tui.messages import PlotReady, PollDone

    root = Path(tempfile.mkdtemp(prefix="watch-live-"))
    dirs = [make_run(root, f"live-{i:04d}", rows=20, every=1, grok_at=None, status="running",
                     summary=False, epochs=100000) for i in range(n_runs)]
    ticks: list[float] = []
    ticks_cpu: list[float] = []
    polls: list[float] = []
    ui: list[float] = []
    plot_build: list[float] = []
    lat_table: list[float] = []
    lat_plot: list[float] = []
    rows_read: list[int] = []

    class BenchApp(WatchApp):
        def on_poll_done(self, message: PollDone) -> None:
            t0, c0 = time.perf_counter(), time.thread_time()
            super().on_poll_done(message)
            spent = time.perf_counter() - t0
            ui.append(spent)
            polls.append(message.result.seconds)
            ticks.append(message.result.seconds + spent)
            ticks_cpu.append(message.result.cpu_seconds + time.thread_time() - c0)
            rows_read.append(message.result.rows)
            sel = self.spec.selected
            run = self.watcher.get(sel) if sel else None
            written = run.last_row.get("written") if run else None
            if isinstance(written, float) and message.result.rows:
                lat_table.append(time.time() - written)

        def on_plot_ready(self, message: PlotReady) -> None:
            super().on_plot_ready(message)
            sel = self.spec.selected
            run = self.watcher.get(sel) if sel else None
            written = run.last_row.get("written") if run else None
            if isinstance(written, float):
                lat_plot.append(time.time() - written)

    import grokconsole.tui.app as app_mod

    real_build = app_mod.build_plot_data

    def timed_build(watcher, spec):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        out = real_build(watcher, spec)
        plot_build.append(time.perf_counter() - t0)
        return out

    app_mod.build_plot_data = timed_build

    async def main() -> None:
        app = BenchApp(root, refresh=refresh)
        async with app.run_test(size=SIZE) as pilot:
            while app.polls < 2:
                await pilot.pause(0.05)
            proc = mp.Process(target=writer, args=([str(d) for d in dirs], rows_per_s, seconds, 20))
            ticks.clear(), ticks_cpu.clear(), polls.clear(), ui.clear(), plot_build.clear(), lat_plot.clear(), rows_read.clear()
            proc.start()
            t_end = time.time() + seconds
            while time.time() < t_end:
                await pilot.pause(0.1)
            proc.join()
            await pilot.pause(2 * refresh)

    try:
        asyncio.run(main())
    finally:
        app_mod.build_plot_data = real_build
        shutil.rmtree(root, ignore_errors=True)
    return {
        "runs": n_runs, "rows_per_s_per_run": rows_per_s, "seconds": seconds, "refresh": refresh,
        "ticks": len(ticks), "rows_per_tick_median": statistics.median(rows_read) if rows_read else 0,
        "tick_ms_median": 1e3 * statistics.median(ticks), "tick_ms_p90": 1e3 * _p90(ticks),
        "tick_cpu_ms_median": 1e3 * statistics.median(ticks_cpu),
        "poll_ms_median": 1e3 * statistics.median(polls), "ui_ms_median": 1e3 * statistics.median(ui),
        "plot_build_ms_median": 1e3 * statistics.median(plot_build) if plot_build else float("nan"),
        "latency_table_s_median": statistics.median(lat_table) if lat_table else float("nan"),
        "latency_table_s_max": max(lat_table) if lat_table else float("nan"),
        "latency_plot_s_median": statistics.median(lat_plot) if lat_plot else float("nan"),
        "latency_plot_s_max": max(lat_plot) if lat_plot else float("nan"),
    }


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.9 * (len(ordered) - 1))] if ordered else float("nan")


# -- big set ---------------------------------------------------------------------------------
def make_big_set(root: Path, n_runs: int, n_rows: int, real_files: bool) -> None:
    template = root / ".template.jsonl"
    with open(template, "w") as fh:
        for e in range(n_rows):
            fh.write(json.dumps(curve_row(e, grok_at=n_rows // 2, mem_at=max(1, n_rows // 20))) + "\n")
    last = curve_row(n_rows - 1, grok_at=n_rows // 2)
    for i in range(n_runs):
        run = root / f"20260101-{i:06d}-modarith-grokking-n500-s{i % 5}"
        (run / "results").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({
            "run_id": run.name, "task": "modarith", "condition": ("grokking", "standard")[i % 2],
            "n_train": 500, "seed": i % 5, "epochs": n_rows}))
        (run / "run.json").write_text(json.dumps({"status": "finished", "exit_code": 0}))
        (run / "results" / "summary.json").write_text(json.dumps({
            "status": "finished", "epoch": n_rows - 1, "final": last, "grokking_epoch": n_rows // 2}))
        dest = run / "results" / "history.jsonl"
        if real_files:
            shutil.copyfile(template, dest)
        else:
            os.link(template, dest)


def big_bench(n_runs: int, n_rows: int, real_files: bool) -> dict:
    root = Path(tempfile.mkdtemp(prefix="watch-big-"))
    t0 = time.perf_counter()
    make_big_set(root, n_runs, n_rows, real_files)
    made = time.perf_counter() - t0
    rss_before = rss_mb()
    out: dict = {"runs": n_runs, "rows": n_rows, "real_files": real_files, "generate_s": made}

    from grokconsole.tui.app import WatchApp  # imported before timing: a CLI start pays it once anyway

    async def main() -> None:
        t_start, c_start = time.perf_counter(), time.process_time()
        app = WatchApp(root, refresh=1.0)
        async with app.run_test(size=SIZE) as pilot:
            while app.plots_drawn < 1 or not app.run_table.row_count:
                await pilot.pause(0.01)
            out["first_screen_s"] = time.perf_counter() - t_start
            out["first_screen_cpu_s"] = time.process_time() - c_start
            out["rss_first_screen_mb"] = rss_mb()
            while app.run_table.row_count < n_runs:
                await pilot.pause(0.01)
            out["table_s"] = time.perf_counter() - t_start
            while app.polls < 3:
                await pilot.pause(0.05)
            out["rss_after_polls_mb"] = rss_mb()
            await pilot.press("g")  # group: loads up to 64 full histories
            while app.drawn_version != app.spec.version:
                await pilot.pause(0.05)
            out["rss_grouped_mb"] = rss_mb()

    try:
        asyncio.run(main())
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out["rss_before_app_mb"] = rss_before
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--live-runs", type=int, default=200)
    ap.add_argument("--rows-per-s", type=float, default=10.0)
    ap.add_argument("--live-seconds", type=float, default=20.0)
    ap.add_argument("--refresh", type=float, default=0.5)
    ap.add_argument("--big-runs", type=int, default=1000)
    ap.add_argument("--big-rows", type=int, default=10_000)
    ap.add_argument("--real-files", action="store_true", help="write every big history (≈3 GB) instead of links")
    ap.add_argument("--skip-live", action="store_true")
    ap.add_argument("--skip-big", action="store_true")
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}  load average: {os.getloadavg()[0]:.2f} (other work disturbs timings)")
    if not args.skip_live:
        res = live_bench(args.live_runs, args.rows_per_s, args.live_seconds, args.refresh)
        print(f"\nlive: {res['runs']} runs × {res['rows_per_s_per_run']:g} rows/s for {res['seconds']:g} s, "
              f"refresh {res['refresh']:g} s, {res['ticks']} ticks, median {res['rows_per_tick_median']:g} rows/tick")
        print(f"  refresh tick (poll + UI update): median {res['tick_ms_median']:.1f} ms wall "
              f"(p90 {res['tick_ms_p90']:.1f} ms), median {res['tick_cpu_ms_median']:.1f} ms CPU   [target ≤ 20 ms]")
        print(f"    reader poll {res['poll_ms_median']:.1f} ms (thread) · UI update {res['ui_ms_median']:.1f} ms"
              f" · plot data {res['plot_build_ms_median']:.1f} ms (thread)")
        print(f"  write → table: median {res['latency_table_s_median']:.2f} s, max {res['latency_table_s_max']:.2f} s"
              f" · write → plot: median {res['latency_plot_s_median']:.2f} s, max {res['latency_plot_s_max']:.2f} s"
              "   [target ≤ 1 s]")
    if not args.skip_big:
        res = big_bench(args.big_runs, args.big_rows, args.real_files)
        print(f"\nbig: {res['runs']} runs × {res['rows']} rows ({'files' if res['real_files'] else 'hard links'}, "
              f"generated in {res['generate_s']:.1f} s)")
        print(f"  first screen (header, first rows, plots): {res['first_screen_s']:.2f} s wall, "
              f"{res['first_screen_cpu_s']:.2f} s CPU · all {res['runs']} rows in the list: {res['table_s']:.2f} s"
              "   [target ≤ 1.5 s]")
        print(f"  RSS: before app {res['rss_before_app_mb']:.0f} MB · first screen {res['rss_first_screen_mb']:.0f} MB"
              f" · after 3 polls {res['rss_after_polls_mb']:.0f} MB · grouped (64 histories) "
              f"{res['rss_grouped_mb']:.0f} MB · peak {res['peak_rss_mb']:.0f} MB   [target ≤ 400 MB]")


if __name__ == "__main__":
    main()
