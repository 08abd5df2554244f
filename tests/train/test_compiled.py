"""compile=true: the compiled training forward, its shape pinning and its eager fallback."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from grokconsole.core.history import read_jsonl
from grokconsole.train.compiled import CompiledForward
from tests.train.test_trainer_determinism import rows, run


class Recorder:
    """Stands in for the compiled module: records the shapes it was called with."""

    def __init__(self, fail: bool = False) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.fail = fail

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.fail:
            raise RuntimeError("InductorError: no working C++ compiler found\nmore detail")
        self.shapes.append(tuple(x.shape))
        return torch.zeros(len(x), 3)


def test_only_the_first_shape_goes_through_the_compiled_module() -> None:
    model = nn.Linear(4, 3)
    cf = CompiledForward(model)
    cf.compiled = rec = Recorder()
    x512, x48 = torch.randn(8, 4), torch.randn(3, 4)
    cf(x512)
    out = cf(x48)  # the shorter last batch of an epoch: eager
    cf(x512)
    assert rec.shapes == [(8, 4), (8, 4)]
    torch.testing.assert_close(out, model(x48))


def test_a_failed_compilation_falls_back_to_eager_once(capsys: pytest.CaptureFixture[str]) -> None:
    model = nn.Linear(4, 3)
    told: list[str] = []
    cf = CompiledForward(model, on_fallback=told.append)
    cf.compiled = Recorder(fail=True)
    x = torch.randn(5, 4)
    torch.testing.assert_close(cf(x), model(x))
    torch.testing.assert_close(cf(x), model(x))
    assert cf.compiled is None
    assert told == ["torch.compile failed, training goes on without it: RuntimeError: InductorError: "
                    "no working C++ compiler found"]
    assert capsys.readouterr().err.count("torch.compile failed") == 1


TINY_GROKFAST = ["p=11", "n_train=55", "d_model=16", "n_heads=2", "d_mlp=32", "batch_size=16", "epochs=4", "lr=0.01",
                 "amp=off"]


def history(tmp: Path, name: str, sets: list[str]) -> tuple[list[dict], list[dict]]:
    """Train a tiny grokfast run; its history rows (without times) and its events."""
    run_dir = run(tmp, name, sets, preset="grokfast")
    events = run_dir / "results" / "events.jsonl"
    return rows(run_dir), read_jsonl(events).rows if events.exists() else []


@pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                    reason="torch.compile needs a C++ compiler on CPU")
def test_compiled_training_gives_the_eager_history(tmp_path: Path) -> None:
    eager, _ = history(tmp_path, "eager", [*TINY_GROKFAST, "compile=false"])
    compiled, events = history(tmp_path, "compiled", [*TINY_GROKFAST, "compile=true"])
    assert "compile_fallback" not in [e["event"] for e in events]  # it really ran compiled
    assert len(compiled) == len(eager) > 2
    for a, b in zip(eager, compiled):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], float):
                # feature_rank (entropy of the spectrum) magnifies rounding in the small singular values
                rel = 1e-3 if key == "feature_rank" else 1e-4
                assert b[key] == pytest.approx(a[key], rel=rel, abs=1e-5), key
            else:
                assert b[key] == a[key], key


@pytest.mark.filterwarnings("ignore:dynamo_pgo force disabled")
def test_a_run_whose_compilation_fails_finishes_eagerly_and_says_so(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import torch._inductor.config as inductor_config

    monkeypatch.setattr(inductor_config.cpp, "cxx", (None, str(tmp_path / "no-such-g++")))
    monkeypatch.setattr(inductor_config, "force_disable_caches", True)  # or a cached kernel would do
    torch._dynamo.reset()  # nor may this process reuse what an earlier test compiled
    rows, events = history(tmp_path, "broken", [*TINY_GROKFAST, "compile=true", "epochs=2"])
    eager, _ = history(tmp_path, "eager", [*TINY_GROKFAST, "compile=false", "epochs=2"])
    fallbacks = [e for e in events if e["event"] == "compile_fallback"]
    assert len(fallbacks) == 1
    assert fallbacks[0]["epoch"] == 1 and fallbacks[0]["step"] == 1 and "C++ compiler" in fallbacks[0]["error"]
    assert rows == eager  # the whole run, eagerly: nothing lost
