"""ResNet-18 training throughput on 96×96 patches: the camelyon17 task's path vs a plain torchvision loop.

    PYTHONPATH=. python bench/resnet_throughput.py [--device cuda] [--batch 256] [--steps 50] [--n 2048]

Both sides: same batch size, SGD, on CUDA bf16 autocast + channels_last, data already on the
device. Ours goes through ``Camelyon17.train_batches`` / ``training_loss`` (uint8 → normalise per
batch, the model split into body + head) on a fake WILDS folder; the plain loop uses a
pre-normalised float tensor and ``torchvision.models.resnet18``. Goal: ours ≥ 95 % of plain.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grokconsole.tasks.config import resolve_config  # noqa: E402
from grokconsole.tasks.camelyon17.task import Camelyon17  # noqa: E402
from tests.train.fake_camelyon import make_fake_camelyon  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def ours(task: Camelyon17, steps: int, warmup: int) -> float:
    model = task.build_model().to(task.device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    seen, t0, step = 0, 0.0, 0
    while step < steps + warmup:
        for batch in task.train_batches(gen):
            if step == warmup:
                _sync(task.device)
                t0, seen = time.perf_counter(), 0
            loss = task.training_loss(model, batch, step)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(batch[1])
            step += 1
            if step >= steps + warmup:
                break
    _sync(task.device)
    return seen / (time.perf_counter() - t0)


def plain(x: torch.Tensor, y: torch.Tensor, batch: int, steps: int, warmup: int) -> float:
    from torchvision.models import resnet18

    device = x.device
    cuda = device.type == "cuda"
    model = resnet18(weights=None, num_classes=2).to(device)
    if cuda:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else contextlib.nullcontext()
    gen = torch.Generator().manual_seed(0)
    seen, t0, step = 0, 0.0, 0
    while step < steps + warmup:
        order = torch.randperm(len(y), generator=gen).to(device)
        for start in range(0, len(y), batch):
            if step == warmup:
                _sync(device)
                t0, seen = time.perf_counter(), 0
            idx = order[start:start + batch]
            with amp:
                loss = F.cross_entropy(model(x[idx]).float(), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            seen += len(idx)
            step += 1
            if step >= steps + warmup:
                break
    _sync(device)
    return seen / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--n", type=int, default=2048, help="fake training patches")
    args = ap.parse_args()
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_fake_camelyon(Path(tmp), per_center=max(4, args.n // 3 + 2))
        cfg = resolve_config("camelyon17", "standard", explicit={"data_dir": str(root), "n_train": args.n},
                             sets=[f"batch_size={args.batch}", "n_eval=8"])
        task = Camelyon17(cfg, device)
        x = task.normalize(task.train.x)
        y = task.train.y
        r_plain = plain(x, y, args.batch, args.steps, args.warmup)
        r_ours = ours(task, args.steps, args.warmup)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device {name}  batch {args.batch}  steps {args.steps}")
    print(f"plain torchvision loop : {r_plain:8.1f} images/s")
    print(f"grokconsole camelyon17 : {r_ours:8.1f} images/s  ({100 * r_ours / r_plain:.1f} % of plain; goal ≥ 95 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
