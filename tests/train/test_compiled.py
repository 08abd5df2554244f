"""compile=true: the compiled training forward, its shape pinning and its eager fallback."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from grokconsole.runs.history import read_jsonl
from grokconsole.train.compiled import CompiledForward
from grokconsole.train.loop import train
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


class PairModel(nn.Module):
    """A model with the package's convention: ``features`` and ``head``."""

    def __init__(self) -> None:
        super().__init__()
        self.body, self.head = nn.Linear(4, 5), nn.Linear(5, 3)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class PairRecorder:
    """Stands in for the compiled (features, logits) graph: records shape and grad mode per call."""

    def __init__(self, model: PairModel) -> None:
        self.model, self.calls = model, []

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.calls.append((tuple(x.shape), torch.is_grad_enabled()))
        feats = self.model.features(x)
        return feats, self.model.head(feats)


def test_evaluation_uses_the_training_graph_for_the_training_shape_only() -> None:
    model = PairModel()
    cf = CompiledForward(model)
    assert cf.pair
    cf.compiled = rec = PairRecorder(model)
    x8, x3 = torch.randn(8, 4), torch.randn(3, 4)
    with torch.no_grad():
        cf.features_and_logits(x8)  # before any training call: eager, and it pins no shape
    assert rec.calls == [] and cf._shape is None
    torch.testing.assert_close(cf(x8), model(x8))  # training: logits of the pair
    with torch.no_grad():  # the loop evaluates under no_grad; the graph is the grad-mode one
        feats, logits = cf.features_and_logits(x8)
        short = cf.features_and_logits(x3)
    assert rec.calls == [((8, 4), True), ((8, 4), True)]
    assert not feats.requires_grad and not logits.requires_grad  # no autograd record kept
    torch.testing.assert_close(logits, model(x8))
    torch.testing.assert_close(short[1], model(x3))
    assert not short[1].requires_grad


# The grokfast decoder at toy size, compiled and eager. Four epochs, a kept checkpoint every two.
TINY_GROKFAST = ["p=11", "n_train=55", "d_model=16", "n_heads=2", "d_mlp=32", "batch_size=16", "epochs=4", "lr=0.01",
                 "amp=off", "checkpoint_every=2", "threads=1"]
needs_compiler = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                                    reason="torch.compile needs a C++ compiler on CPU")


def history(run_dir: Path) -> tuple[list[dict], list[dict]]:
    """A run's history rows (without times) and its events."""
    events = run_dir / "results" / "events.jsonl"
    return rows(run_dir), read_jsonl(events).rows if events.exists() else []


@pytest.fixture(scope="module")
def grokfast_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same tiny grokfast run three times: compiled, compiled again, eager.

    Compilation is what these tests cost (the first one ~20 s on a 2-core CPU; the second of the
    same graph loads inductor's cached kernels), so every test below reads these runs instead of
    training its own.
    """
    tmp = tmp_path_factory.mktemp("grokfast")
    return {name: run(tmp, name, [*TINY_GROKFAST, f"compile={compiled}"], preset="grokfast")
            for name, compiled in (("compiled", "true"), ("again", "true"), ("eager", "false"))}


@needs_compiler
def test_compiled_training_gives_the_eager_history(grokfast_runs: dict[str, Path]) -> None:
    eager, _ = history(grokfast_runs["eager"])
    compiled, events = history(grokfast_runs["compiled"])
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


@needs_compiler
def test_compiled_training_is_deterministic_and_resumes_exactly(grokfast_runs: dict[str, Path],
                                                                tmp_path: Path) -> None:
    """Same seed, same history, bit for bit, with the compiled forward — also across a resume."""
    want, _ = history(grokfast_runs["compiled"])
    assert history(grokfast_runs["again"])[0] == want
    # Pretend the run died right after its first kept checkpoint (epoch 2): latest.pt is that one.
    copy = Path(shutil.copytree(grokfast_runs["compiled"], tmp_path / "resumed"))
    step = next(r["step"] for r in want if r["epoch"] == 2)
    shutil.copy(copy / "checkpoints" / f"step_{step}.pt", copy / "checkpoints" / "latest.pt")
    assert train(copy, resume=True) == 0
    assert rows(copy) == want


# The compile-failure run: the modular-arithmetic MLP (a smaller graph than the decoder, so the
# compilation that is made to fail costs less), two epochs, full batch.
FAILING = ["p=23", "n_train=200", "d_embed=32", "d_hidden=64", "eval_every=1", "epochs=2", "threads=1"]


@pytest.mark.filterwarnings("ignore:dynamo_pgo force disabled")
def test_a_run_whose_compilation_fails_finishes_eagerly_and_says_so(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import torch._inductor.config as inductor_config

    monkeypatch.setattr(inductor_config.cpp, "cxx", (None, str(tmp_path / "no-such-g++")))
    monkeypatch.setattr(inductor_config, "force_disable_caches", True)  # or a cached kernel would do
    torch._dynamo.reset()  # nor may this process reuse what an earlier test compiled
    broken, events = history(run(tmp_path, "broken", [*FAILING, "compile=true"]))
    eager, _ = history(run(tmp_path, "eager", [*FAILING, "compile=false"]))
    fallbacks = [e for e in events if e["event"] == "compile_fallback"]
    assert len(fallbacks) == 1
    # The first training step fails to compile (the loop counts epoch and step from 1 as they start).
    assert (fallbacks[0]["epoch"], fallbacks[0]["step"]) == (1, 1) and "C++ compiler" in fallbacks[0]["error"]
    assert broken == eager  # the whole run, eagerly: nothing lost
