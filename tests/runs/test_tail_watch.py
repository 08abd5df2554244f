"""Tailing for the watch console: partial lines, truncation, rotation, deletion, garbage."""
from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grokconsole.runs.folder import RunPaths
from grokconsole.runs.tail import JsonlTail
from grokconsole.views.watcher import WatchedRun


def test_partial_line_is_held_back(tmp_path: Path) -> None:
    f = tmp_path / "h.jsonl"
    f.write_bytes(b'{"epoch": 1}\n{"epoch": 2')
    t = JsonlTail(f)
    assert [r["epoch"] for r in t.poll().rows] == [1]
    with open(f, "ab") as fh:
        fh.write(b', "val_acc": 0.5}\n')
    rows = t.poll().rows
    assert rows == [{"epoch": 2, "val_acc": 0.5}]
    assert t.poll().rows == []  # old lines are never read again


def test_truncation_resets(tmp_path: Path) -> None:
    f = tmp_path / "h.jsonl"
    f.write_text('{"epoch": 1}\n{"epoch": 2}\n')
    t = JsonlTail(f)
    assert len(t.poll().rows) == 2
    f.write_text('{"epoch": 9}\n')
    res = t.poll()
    assert res.reset and [r["epoch"] for r in res.rows] == [9]


def test_rotation_and_deletion(tmp_path: Path) -> None:
    f = tmp_path / "h.jsonl"
    f.write_text('{"epoch": 1}\n')
    t = JsonlTail(f)
    t.poll()
    os.unlink(f)
    res = t.poll()
    assert res.reset and not res.exists and res.rows == []
    assert t.poll().rows == [] and not t.poll().reset  # a missing file stays quiet
    other = tmp_path / "new.jsonl"
    other.write_text('{"epoch": 1}\n{"epoch": 2}\n{"epoch": 3}\n')
    other.rename(f)
    assert [r["epoch"] for r in t.poll().rows] == [1, 2, 3]


def test_watched_run_survives_folder_deletion(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "results").mkdir(parents=True)
    (root / "config.json").write_text("{}")
    (root / "run.json").write_text(json.dumps({"status": "running", "pid": os.getpid()}))
    (root / "results" / "history.jsonl").write_text('{"epoch": 0, "train_acc": 0.1}\n')
    run = WatchedRun.open(RunPaths(root))
    assert run.poll().new_rows == 1
    import shutil

    shutil.rmtree(root)
    delta = run.poll()
    assert delta.new_rows == 0 and delta.reset


_chunks = st.lists(st.binary(max_size=200) | st.sampled_from(
    [b"\n", b'{"epoch": 1, "val_acc": 0.5}\n', b'{"epoch": "x"}\n', b"[1,2]\n", b"\xff\xfe\n", b'{"a": NaN}\n',
     b'{"epoch": 1e400}\n', b"null\n", b'{"event": "grokking", "epoch": null}\n']), max_size=12)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=_chunks)
def test_garbage_history_never_raises(tmp_path_factory, chunks: list[bytes]) -> None:
    root = tmp_path_factory.mktemp("run")
    (root / "results").mkdir()
    (root / "run.json").write_text(json.dumps({"status": "running", "pid": os.getpid()}))
    hist = root / "results" / "history.jsonl"
    hist.write_bytes(b"")
    run = WatchedRun.open(RunPaths(root))
    run.load()
    for chunk in chunks:
        with open(hist, "ab") as fh:
            fh.write(chunk)
        with open(root / "results" / "events.jsonl", "ab") as fh:
            fh.write(chunk)
        run.poll()
    run.view()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blobs=st.lists(st.binary(max_size=120) | st.sampled_from(
    [b"[]", b"{}", b'[{"epoch": 1, "id_val_acc": 0.2}]', b'{"epoch": [1, 2], "val_acc": [0.1]}', b"[1]",
     b'{"status": 5}', b'{"grokking_epoch": "x"}', b"nul", b'{"status": "running", "pid": "x"}',
     b'{"status": "running", "pid": 1, "host": "elsewhere", "heartbeat_unix": "x"}']), min_size=1, max_size=6))
def test_garbage_legacy_summary_and_state_never_raise(tmp_path_factory, blobs: list[bytes]) -> None:
    root = tmp_path_factory.mktemp("legacy")
    (root / "results").mkdir()
    (root / "config.json").write_bytes(blobs[0])
    run = WatchedRun.open(RunPaths(root))
    for i, blob in enumerate(blobs):
        (root / "results" / "history.json").write_bytes(blob + b" " * i)  # size changes every time
        (root / "results" / "summary.json").write_bytes(blob)
        (root / "run.json").write_bytes(blob)
        run.poll()
        run.load()
    run.view()
