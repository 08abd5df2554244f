"""A tiny task written as one folder in a temporary directory, for the registry tests."""
from __future__ import annotations

import textwrap
from pathlib import Path

SPEC = '''
from grokconsole.tasks.spec import ACCURACY_PANEL, MetricSpec, PanelSpec, SuiteSpec, TaskSpec, accuracy_metrics

SPEC = TaskSpec(
    name="{name}",
    description="parity of 4 bits with a linear model (a test task)",
    defaults={{"n_train": 12, "epochs": 4, "eval_every": 1, "lr": 0.1, "bits": 4, "model": "linear",
               "threads": 1}},
    conditions={{"standard": {{"epochs": 2}}}},
    choices={{"model": ("linear",)}},
    max_n_train=lambda cfg: 2 ** int(cfg["bits"]) - 1,
    metrics=accuracy_metrics(ood=False) + (MetricSpec("margin", "Mean margin", "margin", "extra"),),
    panels=(ACCURACY_PANEL, PanelSpec("extra", "extra")),
    suites=(SuiteSpec("split_acc", "accuracy", "higher", "accuracy per split"),),
    presets={{"{name}_fast": {{"lr": 0.5}}}},
)
'''

TASK = '''
import torch
import torch.nn.functional as F
from torch import nn

from grokconsole.tasks.splits import EvalSplit
from grokconsole.tasks.api import Task, minibatches, n_minibatches


class Net(nn.Module):
    def __init__(self, bits):
        super().__init__()
        self.lin = nn.Linear(bits, 2)

    def features(self, x):
        return x

    def head(self, f):
        return self.lin(f)

    def forward(self, x):
        return self.lin(x)


class Parity(Task):
    name = "{name}"

    def __init__(self, config, device):
        super().__init__(config, device)
        bits = int(config["bits"])
        x = torch.tensor([[(i >> b) & 1 for b in range(bits)] for i in range(2 ** bits)], dtype=torch.float32)
        y = (x.sum(1) % 2).long()
        perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(int(config["seed"])))
        n = int(config["n_train"])
        self.x_train, self.y_train = x[perm[:n]], y[perm[:n]]
        self.x_val, self.y_val = x[perm[n:]], y[perm[n:]]
        self.batch_size = int(config["batch_size"]) or n

    def build_model(self):
        return Net(int(self.config["bits"]))

    def train_batches(self, generator):
        return minibatches((self.x_train, self.y_train), self.batch_size, generator, self.device)

    def steps_per_epoch(self):
        return n_minibatches(len(self.y_train), self.batch_size)

    def training_loss(self, model, batch, step):
        x, y = batch
        return F.cross_entropy(model(x), y)

    @torch.no_grad()
    def evaluate(self, model):
        out = {{}}
        for split, x, y in (("train", self.x_train, self.y_train), ("val", self.x_val, self.y_val)):
            logits = model(x)
            out[split + "_loss"] = float(F.cross_entropy(logits, y))
            out[split + "_acc"] = float((logits.argmax(-1) == y).float().mean())
        out["margin"] = float((logits[:, 1] - logits[:, 0]).abs().mean())
        return out

    def eval_splits(self):
        return [EvalSplit("train", self.x_train, self.y_train), EvalSplit("val", self.x_val, self.y_val)]

    def save_artifacts(self, model, folder):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "weights.txt").write_text(" ".join(f"{{v:.6f}}" for v in model.lin.weight.flatten().tolist()))


TASK_CLASS = Parity
'''

SUITES = '''
from grokconsole.tasks.suites import SliceResult, new_result, register_suite


@register_suite("{name}", "split_acc")
def split_acc(ctx):
    out = new_result("{name}", "split_acc")
    for split in ctx.splits:
        logits = ctx.outputs(split).logits
        acc = float((logits.argmax(-1) == split.y).float().mean())
        out.results[split.name] = SliceResult(acc, len(split.y), split.name)
    return out
'''


def write_task(root: Path, name: str) -> Path:
    """Write the task package ``root/<name>/`` (spec, task, suites) and return it."""
    pkg = root / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(f'"""Test task {name}."""\n')
    for file, text in (("spec.py", SPEC), ("task.py", TASK), ("suites.py", SUITES)):
        (pkg / file).write_text(textwrap.dedent(text.format(name=name)))
    return pkg
