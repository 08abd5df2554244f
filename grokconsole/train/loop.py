"""The training loop, top to bottom: config, task, model, optimizer, loop, eval, checkpoint.

It owns logging (through the Tracker), checkpoints, signals, grokking detection, early
stopping and the device; the task owns data, model and evaluation.
"""
from __future__ import annotations

import itertools
import math
import os
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.runs.precision import AmpChoice, read_cpu_flags, resolve_amp
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.signals import EXIT_STOPPED, StopFlag
from grokconsole.runs.tracker import Tracker
from grokconsole.train import checkpoint as ckpt
from grokconsole.train.cadence import Cadence
from grokconsole.train.compiled import CompiledForward, global_flags_restored
from grokconsole.train.device import resolve_device
from grokconsole.train.grad_filter import make_grad_filter
from grokconsole.tasks.metrics import weight_norm
from grokconsole.tasks.api import make_task

LATEST_EVERY_SECONDS = 30.0


def amp_for(requested: str, device: torch.device) -> AmpChoice:
    """``amp=auto|off|bf16`` resolved for ``device`` (bf16 only where it is computed natively)."""
    if device.type == "cuda":
        return resolve_amp(requested, "cuda", cuda_bf16=torch.cuda.is_bf16_supported())
    return resolve_amp(requested, device.type, cpu_flags=read_cpu_flags())


def make_optimizer(model: torch.nn.Module, c: dict[str, Any]) -> torch.optim.Optimizer:
    lr, wd = float(c["lr"]), float(c["weight_decay"])
    betas = (float(c["beta1"]), float(c["beta2"]))
    # fused: one kernel per parameter for the whole update (3.4× faster than foreach on CPU for the
    # grokfast model); foreach (multi-tensor kernels) for SGD.
    if c["optimizer"] == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd, betas=betas, fused=True)
    if c["optimizer"] == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=wd, betas=betas, fused=True)
    return torch.optim.SGD(model.parameters(), lr=lr, weight_decay=wd, momentum=float(c["momentum"]),
                           foreach=True)


def make_scheduler(opt: torch.optim.Optimizer, c: dict[str, Any], total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = int(c["warmup_steps"])
    cosine = c["lr_schedule"] == "cosine"
    from_zero = bool(c.get("warmup_from_zero", False))  # ironjr/grokfast: step/warmup, step 0 at lr 0

    def factor(step: int) -> float:
        if warmup and from_zero and step <= warmup:
            return step / warmup
        if warmup and step < warmup:
            return (step + 1) / warmup
        if cosine:
            progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
            return 0.5 * (1 + math.cos(math.pi * progress))
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


def train(run_dir: Path, resume: bool = False) -> int:
    """Train the run in ``run_dir``; returns the process exit code."""
    stop = StopFlag()  # first: a `grok stop` sent while the process was starting is a stop
    paths = RunPaths(Path(run_dir))
    config = read_json(paths.config)
    tracker = Tracker(run_dir=paths.root, own_lifecycle=True)
    if stop.set:
        return _stopped_while_starting(paths, tracker, resume)
    try:
        with global_flags_restored():
            return _train(paths, config, tracker, stop, resume)
    except Exception as exc:  # the run fails, but leaves a clear record
        traceback.print_exc()
        tracker.event("crash", error=f"{type(exc).__name__}: {exc}")
        tracker.finish(status="failed", exit_code=1)
        return 1


def _stopped_while_starting(paths: RunPaths, tracker: Tracker, resume: bool) -> int:
    """A stop that came before anything was built: record it, touch no checkpoint and no history."""
    old = read_json(paths.summary, default={}) if resume else {}
    old = old if isinstance(old, dict) else {}
    epoch, step = old.get("epoch", 0), old.get("step", 0)
    tracker.event("stop", epoch=epoch, step=step)
    if resume and old:  # keep the summary of the rows so far; only the status changes
        write_json_atomic(paths.summary, {**old, "status": "stopped", "end_reason": "stopped"})
        tracker.finished = True
        if tracker.lifecycle:
            tracker.lifecycle.end("stopped", EXIT_STOPPED)
    else:
        tracker.finish(status="stopped", exit_code=EXIT_STOPPED, extra={"end_reason": "stopped"})
    print(f"stopped at epoch {epoch} (step {step}) before training", flush=True)
    return EXIT_STOPPED


def _train(paths: RunPaths, c: dict[str, Any], tracker: Tracker, stop: StopFlag, resume: bool) -> int:
    threads = int(c["threads"]) or (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    device = resolve_device(str(c["device"]))
    if c.get("device_resolved") != str(device):
        c["device_resolved"] = str(device)
        write_json_atomic(paths.config, {**read_json(paths.config), "device_resolved": str(device)})
    amp_choice = amp_for(str(c["amp"]), device)
    if c.get("amp_resolved") != amp_choice.amp:
        c["amp_resolved"] = amp_choice.amp
        write_json_atomic(paths.config, {**read_json(paths.config), "amp_resolved": amp_choice.amp})
    print(f"device {device}, amp {amp_choice.amp} ({amp_choice.reason})", flush=True)
    seed = int(c["seed"])
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    data_gen = torch.Generator().manual_seed(seed + 1)

    task = make_task(c, device)
    task.prepare_run_folder(paths.root)
    model = task.build_model().to(device)
    opt = make_optimizer(model, c)
    cad = Cadence.from_config(c, task.steps_per_epoch())
    sched = make_scheduler(opt, c, cad.total_steps)
    gfilter = make_grad_filter(c)
    patience = int(c["early_stopping_patience"])
    es_metric = str(c["early_stopping_metric"])
    stop_after = int(c["stop_after_grokking"])
    amp = amp_choice.amp == "bf16"
    # compile=true: the training forward through torch.compile (eager again if that fails);
    # evaluation through the same graph where the task takes it (Task.use_compiled), else eager.
    train_model: Any = model
    if c.get("compile"):
        # Deterministic kernels on CPU, where the same seed gives the same history. Not on CUDA:
        # histories there are not bit-reproducible anyway, and the mode slows CUDA kernels.
        train_model = CompiledForward(model, lambda message: tracker.event(
            "compile_fallback", epoch=epoch, step=step, error=message), deterministic=device.type == "cpu")
        if train_model.pair:
            task.use_compiled(train_model.features_and_logits)

    # epoch: epochs started (the one in progress while batch_in_epoch > 0); step: optimizer steps.
    epoch, step, batch_in_epoch = 0, 0, 0
    epoch_rng: Any = None  # the data generator at the start of the epoch (step-counted runs: exact resume inside it)
    best, bad_evals = -math.inf, 0
    grok_epoch: float | None = None
    latest_path = paths.latest_checkpoint
    loaded = ckpt.load_for_resume(paths.checkpoints) if resume else None
    if resume and loaded is None:
        # Stopped or killed before its first checkpoint: start again from step 0.
        kept = tracker.resume(-1)
        tracker.event("resume", epoch=0, step=0, rows_kept=len(kept), from_start=True)
        print("no checkpoint yet: starting from step 0", flush=True)
        resume = False
    if loaded is not None:
        state, used, skipped = loaded
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if gfilter and state.get("grad_filter"):
            gfilter.load_state_dict(state["grad_filter"])
        ckpt.set_rng_state(state["rng"], data_gen)
        task.load_state_dict(state.get("task") or {})
        epoch, step = int(state["epoch"]), int(state["step"])
        batch_in_epoch, epoch_rng = int(state.get("batch_in_epoch", 0)), state.get("epoch_rng")
        best, bad_evals = state["early_stopping"]
        kept = tracker.resume(step)
        if skipped:
            tracker.event("checkpoint_fallback", epoch=cad.epoch_value(epoch, batch_in_epoch), step=step,
                          used=used.name, skipped=[name for name, _ in skipped],
                          error="; ".join(f"{n}: {why}" for n, why in skipped))
            print(f"resuming from {used.name}: " + "; ".join(f"{n} {why}" for n, why in skipped), flush=True)
        tracker.event("resume", epoch=cad.epoch_value(epoch, batch_in_epoch), step=step, rows_kept=len(kept))
        print(f"resumed at epoch {cad.epoch_value(epoch, batch_in_epoch)} (step {step})", flush=True)
        grok_epoch = tracker.detector.result.grokking_epoch

    def now() -> float | int:
        return cad.epoch_value(epoch, batch_in_epoch)

    if stop.set:
        # Stopped while starting (before any training step): the run's files stay as they were
        # (no new checkpoint); it resumes from where it was, or from step 0.
        tracker.event("stop", epoch=now(), step=step)
        tracker.finish(status="stopped", exit_code=EXIT_STOPPED, extra={"end_reason": "stopped",
                                                                       "device": str(device)})
        print(f"stopped at epoch {now()} (step {step}) before training", flush=True)
        return EXIT_STOPPED

    def save(periodic: bool) -> None:
        payload = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                   "grad_filter": gfilter.state_dict() if gfilter else None, "rng": ckpt.rng_state(data_gen),
                   "task": task.state_dict(), "epoch": epoch, "step": step, "early_stopping": (best, bad_evals),
                   "batch_in_epoch": batch_in_epoch, "epoch_rng": epoch_rng, "config": c}
        ckpt.save(latest_path, payload)
        if periodic:
            ckpt.save(paths.step_checkpoint(step), payload)
            task.save_artifacts(model, paths.checkpoints / f"step_{step}")
            ckpt.prune(paths.checkpoints, int(c["keep_checkpoints"]))

    def evaluate_and_log() -> None:
        nonlocal best, bad_evals, grok_epoch
        model.eval()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            metrics = task.evaluate(model)
        model.train()
        metrics["weight_norm"] = weight_norm(model)
        row = tracker.log(epoch=now(), step=step, **metrics)
        value = row.get(es_metric)
        if value is not None:
            value = -value if es_metric.endswith("loss") else value
            if value > best + 1e-9:
                best, bad_evals = value, 0
            else:
                bad_evals += 1
        if grok_epoch is None and tracker.grokking_detected:
            grok_epoch = now()
        print(f"epoch {now()} step {step} " + " ".join(
            f"{k}={row[k]:.4f}" for k in ("train_acc", "val_acc", "ood_acc") if k in row), flush=True)

    def after_evaluation(periodic: bool) -> str | None:
        """Save as due; the reason to end training early, if any."""
        nonlocal last_latest
        if periodic or time.time() - last_latest >= LATEST_EVERY_SECONDS:
            save(periodic)
            last_latest = time.time()
        if patience and bad_evals >= patience:
            tracker.event("early_stop", epoch=now(), step=step, metric=es_metric, patience=patience)
            return "early_stopping"
        if stop_after >= 0 and grok_epoch is not None and now() - grok_epoch >= stop_after:
            return "stop_after_grokking"
        return None

    def optimizer_step(group: list[Any]) -> None:
        """One optimizer step over ``group`` (``grad_accum_steps`` batches, fewer at an epoch's end)."""
        opt.zero_grad(set_to_none=True)
        for batch in group:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                loss = task.training_loss(train_model, batch, step)
            # The mean over the group's batches: with equal batches, the gradient of their union.
            (loss if len(group) == 1 else loss / len(group)).backward()
        if gfilter:
            gfilter.apply(model)
        if float(c["grad_clip"]) > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), float(c["grad_clip"]))
        opt.step()
        sched.step()

    if not resume:
        evaluate_and_log()
        save(periodic=False)
    last_latest = time.time()
    model.train()
    end_status, end_reason = "finished", "completed"
    ended: str | None = None
    while ended is None and not cad.finished(epoch, step, batch_in_epoch):
        if stop.set:
            end_status = "stopped"
            break
        if batch_in_epoch == 0:
            epoch += 1
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                task.begin_epoch(model, epoch, data_gen)
            model.train()
            epoch_rng = data_gen.get_state() if cad.by_steps else None
            batches = iter(task.train_batches(data_gen))
        else:
            batches = _resume_inside_epoch(task, data_gen, epoch_rng, batch_in_epoch)
        evaluated_at = -1
        while True:
            group = list(itertools.islice(batches, cad.accum))
            if not group:
                batch_in_epoch = 0  # the epoch is complete
                break
            step += 1
            optimizer_step(group)
            batch_in_epoch += len(group)
            if not cad.by_steps:
                continue
            if cad.eval_after_step(step):
                evaluate_and_log()
                evaluated_at = step
                ended = after_evaluation(cad.checkpoint_after_step(step))
            elif cad.checkpoint_after_step(step):
                save(periodic=True)
                last_latest = time.time()
            if ended or stop.set or cad.finished(epoch, step, batch_in_epoch):
                break
        if ended is None and batch_in_epoch == 0 and evaluated_at != step and cad.eval_after_epoch(epoch):
            evaluate_and_log()
            ended = after_evaluation(cad.checkpoint_after_epoch(epoch))
    if ended:
        end_reason = ended
    if stop.set:
        end_status = "stopped"
    save(periodic=True)
    extra: dict[str, Any] = {"end_reason": "stopped" if end_status == "stopped" else end_reason,
                             "device": str(device), "amp": amp_choice.amp}
    if end_status == "finished":
        model.eval()
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            extra.update(task.final_metrics(model))
    else:
        tracker.event("stop", epoch=now(), step=step)
    tracker.finish(status=end_status, exit_code=EXIT_STOPPED if end_status == "stopped" else 0, extra=extra)
    print(f"{end_status} at epoch {now()} (step {step})", flush=True)
    return EXIT_STOPPED if end_status == "stopped" else 0


def _resume_inside_epoch(task: Any, data_gen: torch.Generator, epoch_rng: Any, done: int) -> Iterator[Any]:
    """The rest of an epoch a checkpoint interrupted: the epoch's batch order drawn again from the
    generator state it started with, its first ``done`` batches skipped. Exact for tasks whose
    batches draw only from the generator they are given."""
    if epoch_rng is None:
        raise RuntimeError("the checkpoint stopped inside an epoch but holds no epoch start state")
    current, global_rng = data_gen.get_state(), torch.get_rng_state()
    data_gen.set_state(epoch_rng)
    batches = iter(task.train_batches(data_gen))
    for _ in itertools.islice(batches, done):
        pass
    data_gen.set_state(current)
    torch.set_rng_state(global_rng)
    return batches


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m grokconsole.train.loop RUN_DIR [--resume]", file=sys.stderr)
        return 2
    return train(Path(argv[0]), resume="--resume" in argv[1:])


if __name__ == "__main__":
    sys.exit(main())
