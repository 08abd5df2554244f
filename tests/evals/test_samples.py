"""Per-sample logs and the Wilson interval, without torch: the run folder's side of the format."""
from __future__ import annotations

from pathlib import Path

import pytest

from grokconsole.runs.errors import GrokError
from grokconsole.runs.evalfiles import EvalPaths, load_suite_tables
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.jsonio import write_json_atomic
from grokconsole.runs.samples import is_samples_file, read_samples, suite_of, wilson95, write_samples


def test_wilson_interval_known_values_and_edges() -> None:
    lo, hi = wilson95(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)  # the textbook 95 % Wilson interval of 8/10
    assert wilson95(0, 20)[0] == 0.0 < wilson95(0, 20)[1] < 0.2
    assert wilson95(20, 20)[1] == 1.0 and wilson95(20, 20)[0] > 0.8
    assert wilson95(0, 0) is None
    wide, narrow = wilson95(5, 10), wilson95(500, 1000)
    assert wide[1] - wide[0] > narrow[1] - narrow[0]


def test_samples_round_trip_beside_results_that_readers_ignore(tmp_path: Path) -> None:
    ep = EvalPaths(RunPaths(tmp_path / "r"))
    rows = [{"slice": "b8_d2", "prompt": "1+2=", "output": "3", "answer": "3", "parsed": "3", "correct": True},
            {"slice": "b8_d2", "prompt": "7+1=", "output": "8", "answer": "10", "parsed": "8", "correct": False}]
    write_json_atomic(ep.suite_file(5, "accuracy"), {"metric": "accuracy", "direction": "higher",
                                                     "results": {"b8_d2": {"value": 0.5, "n": 2}}})
    write_samples(ep.samples_file(5, "accuracy"), rows)
    plain = ep.step_dir(5) / "accuracy.samples.jsonl"
    plain.write_text('{"slice": "b8_d2", "correct": true}\n\n')
    assert ep.samples_file(5, "accuracy").name == "accuracy.samples.jsonl.gz"
    assert read_samples(ep.samples_file(5, "accuracy")) == rows and len(read_samples(plain)) == 1
    assert read_samples(tmp_path / "none.samples.jsonl.gz") == []
    assert is_samples_file(plain) and not is_samples_file(ep.suite_file(5, "accuracy"))
    assert suite_of(ep.samples_file(5, "accuracy")) == "accuracy"
    assert list(load_suite_tables(ep.root)) == ["accuracy"]
    (ep.step_dir(5) / "icl.samples.jsonl.gz").write_bytes(b"not gzip")
    with pytest.raises(GrokError, match="unreadable samples file"):
        read_samples(ep.step_dir(5) / "icl.samples.jsonl.gz")
