"""Run folder format: writing, reading, legacy layout, partial lines, naming, lifecycle."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from grokconsole.runs.discovery import discover_runs, load_run
from grokconsole.runs.history import load_history
from grokconsole.runs.errors import GrokError
from grokconsole.runs.history import HistoryWriter, read_jsonl, read_legacy_history, to_columns, truncate_history_after
from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.runs.lifecycle import Lifecycle, RunState, effective_status, read_run_state
from grokconsole.runs.folder import RunPaths, check_name, create_run_dir, resolve_run
from grokconsole.runs.tail import JsonlTail


def test_history_roundtrip_and_nan_as_null(tmp_path: Path) -> None:
    w = HistoryWriter(tmp_path / "h.jsonl")
    w.append({"epoch": 0, "val_acc": 0.5, "irm_mean": float("nan")})
    w.append({"epoch": 1, "val_acc": 0.75})
    w.close()
    text = (tmp_path / "h.jsonl").read_text()
    assert "NaN" not in text and "null" in text
    rows = read_jsonl(tmp_path / "h.jsonl").rows
    assert [r["epoch"] for r in rows] == [0, 1]
    cols = to_columns(rows)
    assert cols["val_acc"] == [0.5, 0.75]
    assert cols["irm_mean"][0] != cols["irm_mean"][0]  # NaN


def test_partial_last_line_is_never_parsed(tmp_path: Path) -> None:
    p = tmp_path / "h.jsonl"
    p.write_text('{"epoch": 0}\n{"epoch": 1}\n{"epoch": 2, "val_')
    parsed = read_jsonl(p)
    assert [r["epoch"] for r in parsed.rows] == [0, 1]
    assert parsed.bad_lines == 0


def test_garbage_lines_are_counted_not_raised(tmp_path: Path) -> None:
    p = tmp_path / "h.jsonl"
    p.write_bytes(b'{"epoch": 0}\nnot json\n[1,2]\n\xff\xfe\n{"epoch": 3}\n')
    parsed = read_jsonl(p)
    assert [r["epoch"] for r in parsed.rows] == [0, 3]
    assert parsed.bad_lines == 3


def test_legacy_history_maps_id_val_acc(tmp_path: Path) -> None:
    p = tmp_path / "history.json"
    p.write_text(json.dumps([{"epoch": 0, "train_acc": 0.5, "id_val_acc": 0.4, "ood_acc": 0.3}]))
    rows = read_legacy_history(p)
    assert rows[0]["val_acc"] == 0.4 and "id_val_acc" not in rows[0]
    p.write_text("{broken")
    with pytest.raises(GrokError, match="malformed history"):
        read_legacy_history(p)


def test_truncate_history_after(tmp_path: Path) -> None:
    p = tmp_path / "h.jsonl"
    p.write_text("".join(json.dumps({"epoch": i, "step": i * 2}) + "\n" for i in range(10)))
    kept = truncate_history_after(p, 8)
    assert [r["step"] for r in kept] == [0, 2, 4, 6, 8]
    assert len(read_jsonl(p).rows) == 5


def test_atomic_json_and_clear_errors(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "a" / "x.json", {"v": float("inf")})
    assert read_json(tmp_path / "a" / "x.json") == {"v": None}
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(GrokError, match="malformed JSON"):
        read_json(tmp_path / "bad.json")
    with pytest.raises(GrokError, match="missing file"):
        read_json(tmp_path / "missing.json")
    assert read_json(tmp_path / "missing.json", default=None) is None


def test_run_ids_suffix_on_clash_and_names_cannot_escape(tmp_path: Path) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5)
    a = create_run_dir(tmp_path, "modarith-grokking-n10-s0", when=when)
    b = create_run_dir(tmp_path, "modarith-grokking-n10-s0", when=when)
    assert a.run_id == "20260102-030405-modarith-grokking-n10-s0"
    assert b.run_id == a.run_id + "-2"
    for sub in ("results", "checkpoints", "logs"):
        assert (a.root / sub).is_dir()
    for bad in ("../x", "a/b", "..", "/abs", "", ".hidden"):
        with pytest.raises(GrokError):
            check_name(bad)
    assert not (tmp_path.parent / "x").exists()


def test_resolve_run_by_prefix_substring_and_path(tmp_path: Path) -> None:
    a = create_run_dir(tmp_path, "alpha")
    create_run_dir(tmp_path, "beta")
    assert resolve_run("alpha", tmp_path).root == a.root
    assert resolve_run(a.run_id, tmp_path).root == a.root
    write_json_atomic(a.config, {})
    assert resolve_run(str(a.root), tmp_path).root == a.root
    with pytest.raises(GrokError, match="no run"):
        resolve_run("gamma", tmp_path)
    with pytest.raises(GrokError, match="ambiguous"):
        resolve_run("2", tmp_path)


def test_running_without_a_live_process_reads_as_crashed(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    life = Lifecycle(tmp_path, pid=proc.pid)
    life.record()
    assert read_run_state(tmp_path).status == "running"
    assert effective_status(read_run_state(tmp_path)) == "crashed"
    mine = Lifecycle(tmp_path)
    mine.record()
    assert effective_status(read_run_state(tmp_path)) == "running"
    mine.end("stopped", 143)
    state = read_run_state(tmp_path)
    assert (state.status, state.exit_code) == ("stopped", 143) and state.end


def test_zombie_process_is_not_alive(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    import time
    time.sleep(0.5)  # exited but not reaped: a zombie
    Lifecycle(tmp_path, pid=proc.pid).record()
    assert effective_status(read_run_state(tmp_path)) == "crashed"
    proc.wait()


def test_other_host_uses_heartbeat() -> None:
    state = RunState(status="running", pid=1, host="elsewhere", heartbeat_unix=1000.0)
    assert effective_status(state, now=1010.0) == "running"
    assert effective_status(state, now=5000.0) == "crashed"


def _legacy_run(root: Path, name: str, config: dict | None, rows: list[dict]) -> Path:
    d = root / name
    (d / "results").mkdir(parents=True)
    (d / "results" / "history.json").write_text(json.dumps(rows))
    if config is not None:
        (d / "config.json").write_text(json.dumps(config))
    return d


def test_discovery_reads_native_and_legacy(tmp_path: Path) -> None:
    _legacy_run(tmp_path, "20260505-120000-grokking-s0", None,
                [{"epoch": 0, "train_acc": 0.5, "id_val_acc": 0.2, "grokking_detected": False},
                 {"epoch": 5, "train_acc": 1.0, "id_val_acc": 0.9, "grokking_detected": True}])
    _legacy_run(tmp_path, "20260505-130000-b", {"condition": "standard", "n_train": 500, "seed": 1},
                [{"epoch": 0, "train_acc": 0.5, "val_acc": 0.2}])
    native = create_run_dir(tmp_path, "native")
    write_json_atomic(native.config, {"task": "modarith", "condition": "grokking", "n_train": 10, "seed": 0})
    native.history.write_text('{"epoch": 0, "train_acc": 0.1}\n{"epoch": 10, "train_acc": 0.9}\n{"epo')
    Lifecycle(native.root).record()
    (tmp_path / "not-a-run").mkdir()
    recs = {r.run_id: r for r in discover_runs(tmp_path)}
    assert len(recs) == 3
    legacy = recs["20260505-120000-grokking-s0"]
    assert legacy.layout == "legacy" and legacy.status == "finished"
    assert legacy.condition == "grokking"  # inferred from the name, as the user's scripts do
    assert legacy.last_row["val_acc"] == 0.9 and legacy.summary["grokking_epoch"] == 5
    assert recs["20260505-130000-b"].condition == "standard"
    nat = recs[native.run_id]
    assert nat.layout == "native" and nat.status == "running" and nat.last_row["epoch"] == 10
    assert [r["epoch"] for r in load_history(nat.paths)] == [0, 10]


def test_malformed_files_are_reported_not_raised(tmp_path: Path) -> None:
    d = create_run_dir(tmp_path, "bad")
    d.config.write_text("{oops")
    rec = load_run(d)
    assert rec.error and "malformed" in rec.error


def test_jsonl_tail_follows_appends_truncation_and_deletion(tmp_path: Path) -> None:
    p = tmp_path / "h.jsonl"
    t = JsonlTail(p)
    assert t.poll().exists is False
    p.write_text('{"a": 1}\n{"a": 2')
    assert [r["a"] for r in t.poll().rows] == [1]
    with open(p, "a") as fh:
        fh.write('}\n{"a": 3}\n')
    assert [r["a"] for r in t.poll().rows] == [2, 3]
    assert t.poll().rows == []
    p.write_text('{"a": 9}\n')  # truncated and rewritten
    res = t.poll()
    assert res.reset and [r["a"] for r in res.rows] == [9]
    os.unlink(p)
    assert t.poll().reset
    p.write_text('{"a": 10}\n')
    assert [r["a"] for r in t.poll().rows] == [10]


def test_one_parser_with_the_standard_library_as_fallback(tmp_path: Path, monkeypatch) -> None:
    import grokconsole.runs.jsonio as jsonio
    from grokconsole.runs.history import parse_jsonl_chunk

    chunk = b'{"epoch": 0, "val_acc": NaN}\n{"epoch": 1, "id_val_acc": 0.5}\n{"epoch": 2, "big": 123456789012345678901234567890}\n'
    for fast in (jsonio._fast_loads, None):  # orjson (refusing NaN and huge ints: the stdlib takes over), then none
        monkeypatch.setattr(jsonio, "_fast_loads", fast)
        parsed = parse_jsonl_chunk(chunk + b"junk\n")
        assert [r["epoch"] for r in parsed.rows] == [0, 1, 2] and parsed.bad_lines == 1
        assert math.isnan(parsed.rows[0]["val_acc"]) and parsed.rows[1]["val_acc"] == 0.5
        assert jsonio.loads(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
