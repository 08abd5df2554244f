"""Suites: the registry matches the catalog, and values are right on hand-checkable models."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from types import SimpleNamespace

from grokconsole.tasks.splits import EvalContext, EvalSplit, eval_splits
from grokconsole.tasks.suites import get_suite, load_suites, register_suite
from grokconsole.tasks.registry import all_specs
from grokconsole.tasks.modarith.suites import operand_bins
from grokconsole.tasks.modarith.task import make_pairs
from grokconsole.tasks.shortcut.task import Shortcut
from grokconsole.tasks.api import Task
from tests.evals.toy import ToyNet, toy_splits


def test_every_declared_suite_is_implemented_and_nothing_else() -> None:
    declared = {name: {s.name for s in spec.suites} for name, spec in all_specs().items()}
    assert {t: set(load_suites(t)) for t in all_specs()} == declared
    with pytest.raises(ValueError):
        register_suite("modarith", "not_in_its_spec")


def test_operand_bins_cover_every_value_once() -> None:
    for p in (2, 3, 13, 97):
        bins = operand_bins(p)
        covered = [a for lo, hi in bins for a in range(lo, hi + 1)]
        assert covered == list(range(p))
    assert operand_bins(13) == [(0, 2), (3, 5), (6, 9), (10, 12)]


class HalfOracle(nn.Module):
    """Answers (a + b) mod p right when a < p/2 and wrong otherwise: accuracy per a-range is known."""

    def __init__(self, p: int) -> None:
        super().__init__()
        self.p = p
        self.head = nn.Linear(p, p, bias=False)
        with torch.no_grad():
            self.head.weight.copy_(torch.eye(p))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x[:, 0], x[:, 1]
        answer = (a + b) % self.p
        answer = torch.where(a < 7, answer, (answer + 1) % self.p)
        return nn.functional.one_hot(answer, self.p).float() * 10


def test_modarith_operand_acc_and_loss_hand_checked() -> None:
    p = 13
    x, y = make_pairs(p, "add")
    splits = [EvalSplit("train", x[:80], y[:80]), EvalSplit("val", x[80:], y[80:])]
    ctx = EvalContext(HalfOracle(p), splits, {"p": p})
    acc = get_suite("modarith", "operand_acc")(ctx).to_json()
    assert acc["metric"] == "accuracy" and acc["direction"] == "higher"
    res = acc["results"]
    # pairs are enumerated a-major, 13 per a: train holds a = 0…5 and 3 pairs of a = 6
    assert res["train:a=0-2"] == {"value": 1.0, "n": 39, "domain": "train"}
    assert res["train:a=3-5"] == {"value": 1.0, "n": 39, "domain": "train"}
    assert res["train:a=6-9"] == {"value": 1.0, "n": 2, "domain": "train"}
    assert "train:a=10-12" in res and res["train:a=10-12"]["n"] == 0
    assert res["val:a=6-9"]["n"] == 50 and res["val:a=6-9"]["value"] == pytest.approx(11 / 50)
    assert res["val:a=10-12"] == {"value": 0.0, "n": 39, "domain": "val"}
    loss = get_suite("modarith", "operand_loss")(ctx).to_json()
    assert loss["direction"] == "lower"
    assert loss["results"]["train:a=0-2"]["value"] < 1e-3 < loss["results"]["val:a=10-12"]["value"]


def test_image_env_suites_on_a_model_with_known_accuracy() -> None:
    splits = toy_splits()
    model = ToyNet(w_core=0.0, w_shortcut=1.0)  # predicts the stain: accuracy = agreement rate
    ctx = EvalContext(model, splits)
    for task in ("shortcut", "camelyon17"):
        acc = get_suite(task, "env_acc")(ctx).to_json()["results"]
        for s in splits:
            expected = float((s.shortcut == s.y).float().mean())
            key = f"{s.name}/env{int(s.env[0])}"
            assert acc[key]["value"] == pytest.approx(expected)
            assert acc[key]["n"] == len(s.y) and acc[key]["domain"] == s.name
        conf = get_suite(task, "env_conf")(ctx).to_json()
        assert conf["metric"] == "confidence"
        assert all(0.5 <= r["value"] <= 1.0 for r in conf["results"].values())


def test_eval_splits_come_from_the_task_and_a_task_without_them_says_so() -> None:
    class Fake:
        def eval_splits(self) -> list[EvalSplit]:
            return [EvalSplit("val", torch.zeros(2, 2), torch.zeros(2)),
                    EvalSplit("train", torch.zeros(3, 2), torch.zeros(3))]

    splits = eval_splits(Fake())
    assert [s.name for s in splits] == ["train", "val"] and not any(s.ood for s in splits)

    class NoSplits(Task):
        name = "nosplits"
        build_model = train_batches = training_loss = evaluate = None  # type: ignore[assignment]

    with pytest.raises(TypeError, match="nosplits offers no evaluation splits"):
        eval_splits(NoSplits({}, torch.device("cpu")))
    with pytest.raises(TypeError, match="not a task"):
        eval_splits(object())


class FakeShortcutTask:
    """The data layout of the ``shortcut`` task (train with envs, val, ood; a stained border),
    split by the task's own ``eval_splits``."""

    eval_splits = Shortcut.eval_splits

    def __init__(self, n: int = 200, border: int = 2) -> None:
        g = torch.Generator().manual_seed(0)
        self.config = {"task": "shortcut", "border": border}
        self.spec = SimpleNamespace(border=border)
        colour = torch.tensor([1.0, -0.6, 0.6]).view(1, 3, 1, 1)

        def images(stain: torch.Tensor) -> torch.Tensor:
            x = torch.randn(len(stain), 3, 10, 10, generator=g) * 0.2
            ring = torch.ones(10, 10, dtype=torch.bool)
            ring[border:-border, border:-border] = False
            return x + colour * (2 * stain - 1).float().view(-1, 1, 1, 1) * ring

        self.y_train = torch.randint(0, 2, (n,), generator=g)
        self.stain_train = torch.where(torch.rand(n, generator=g) < 0.9, self.y_train, 1 - self.y_train)
        self.x_train, self.env_train = images(self.stain_train), torch.arange(n) % 2
        self.y_val = torch.randint(0, 2, (n,), generator=g)
        self.x_val = images(self.y_val)
        self.y_ood = torch.randint(0, 2, (n,), generator=g)
        self.x_ood = images(1 - self.y_ood)


def test_shortcut_task_layout_gives_env_slices_ood_flag_and_stain_labels() -> None:
    task = FakeShortcutTask()
    splits = eval_splits(task)
    assert [(s.name, s.ood, s.env is not None) for s in splits] == [
        ("train", False, True), ("val", False, False), ("ood", True, False)]
    assert torch.equal(splits[0].shortcut, task.stain_train)       # recovered from the border alone
    assert torch.equal(splits[0].probe_target, task.stain_train)

    class StainReader(nn.Module):  # predicts the stain: accuracy 0 OOD (reversed), 1 on val
        def __init__(self) -> None:
            super().__init__()
            self.head = nn.Identity()
            self.w = nn.Parameter(torch.zeros(1))

        def features(self, x: torch.Tensor) -> torch.Tensor:
            s = (x[:, 0, 0, :].mean(-1) > 0).float()
            return torch.stack([1 - s, s], 1)

    acc = get_suite("shortcut", "env_acc")(EvalContext(StainReader(), splits)).to_json()["results"]
    assert set(acc) == {"train/env0", "train/env1", "val/all", "ood/all"}
    assert acc["val/all"]["value"] == 1.0 and acc["ood/all"]["value"] == 0.0
    assert acc["train/env0"]["n"] + acc["train/env1"]["n"] == 200
