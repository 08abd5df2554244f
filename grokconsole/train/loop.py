"""The training loop, top to bottom: config, task, model, optimizer, loop, eval, checkpoint.

It owns logging (through the Tracker), checkpoints, signals, grokking detection, early
stopping and the device; the task owns data, model and evaluation. Everything a resume needs
lives in one :class:`~grokconsole.train.state.TrainState` (``to_checkpoint`` /
``from_checkpoint``); what the loop only reads (paths, tracker, cadence, device) lives in one
:class:`Loop`. Each part of the loop is a function of those two, so the order of work is read
from this file alone.

A run ends ``finished``, ``stopped`` or ``failed``. A loss or weight norm that is not finite
fails it as diverged (the Tracker finishes the run and raises :class:`Diverged`): the history
keeps the row that showed it, ``events.jsonl`` a ``diverged`` event, and the checkpoints stay
the last ones written before it.
"""
from __future__ import annotations

import itertools
import os
import random
import sys
import time
import traceback
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from grokconsole.runs.errors import is_disk_error
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.runs.precision import AmpChoice
from grokconsole.runs.signals import EXIT_STOPPED, StopFlag
from grokconsole.runs.tracker import Diverged, Tracker
from grokconsole.tasks.api import Task, make_task
from grokconsole.tasks.metrics import weight_norm
from grokconsole.tasks.registry import detection_config, progress_metrics
from grokconsole.train import checkpoint as ckpt
from grokconsole.train.cadence import Cadence
from grokconsole.train.compiled import CompiledForward, global_flags_restored
from grokconsole.train.device import amp_for, resolve_device
from grokconsole.train.grad_filter import make_grad_filter
from grokconsole.train.optim import make_optimizer, make_scheduler
from grokconsole.train.state import TrainState

LATEST_EVERY_SECONDS = 30.0


# -- config: device, precision, seeds ---------------------------------------------------------
def resolve_hardware(paths: RunPaths, c: dict[str, Any]) -> tuple[torch.device, AmpChoice]:
    """Threads, device and precision; the resolved choices are written to ``config.json`` so a
    reader sees what ``auto`` became."""
    torch.set_num_threads(int(c["threads"]) or (os.cpu_count() or 1))
    device = resolve_device(str(c["device"]))
    amp = amp_for(str(c["amp"]), device)
    for key, value in (("device_resolved", str(device)), ("amp_resolved", amp.amp)):
        if c.get(key) != value:
            c[key] = value
            write_json_atomic(paths.config, {**read_json(paths.config), key: value})
    print(f"device {device}, amp {amp.amp} ({amp.reason})", flush=True)
    return device, amp


def seed_everything(seed: int) -> torch.Generator:
    """Seed every global RNG; the returned generator draws the data order (checkpointed apart)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed + 1)


# -- what the loop only reads -----------------------------------------------------------------
@dataclass
class Loop:
    """What the loop reads but never checkpoints: the run's files, its logger, its schedule."""

    paths: RunPaths
    tracker: Tracker
    stop: StopFlag
    device: torch.device
    amp: AmpChoice
    cadence: Cadence
    train_model: Any  # the model, or its compiled forward
    es_metric: str
    patience: int
    stop_after: int
    last_latest: float = 0.0  # when latest.pt was last written (time.time())

    @property
    def bf16(self) -> bool:
        return self.amp.amp == "bf16"

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def now(self, s: TrainState) -> float | int:
        """The ``epoch`` of a history row or event at this point of training."""
        return self.cadence.epoch_value(s.epoch, s.batch_in_epoch)


# -- task, model, optimizer --------------------------------------------------------------------
def build(paths: RunPaths, c: dict[str, Any], tracker: Tracker, stop: StopFlag) -> tuple[Loop, TrainState]:
    """The task, its model on the device, optimizer, schedule and filter, in a fresh state."""
    device, amp = resolve_hardware(paths, c)
    tracker.note(device=str(device), amp=amp.amp)
    data_gen = seed_everything(int(c["seed"]))
    task = make_task(c, device)
    task.prepare_run_folder(paths.root)
    model = task.build_model().to(device)
    opt = make_optimizer(model, c)
    cadence = Cadence.from_config(c, task.steps_per_epoch())
    state = TrainState(model, opt, make_scheduler(opt, c, cadence.total_steps), make_grad_filter(c), task,
                       data_gen, c)
    # compile=true: the training forward through torch.compile (eager again if that fails);
    # evaluation through the same graph where the task takes it (Task.use_compiled), else eager.
    train_model: Any = model
    if c.get("compile"):
        # Deterministic kernels on CPU, where the same seed gives the same history. Not on CUDA:
        # histories there are not bit-reproducible anyway, and the mode slows CUDA kernels.
        train_model = CompiledForward(model, partial(_compile_fallback, tracker, state),
                                      deterministic=device.type == "cpu")
        if train_model.pair:
            task.use_compiled(train_model.features_and_logits)
    loop = Loop(paths, tracker, stop, device, amp, cadence, train_model, es_metric=str(c["early_stopping_metric"]),
                patience=int(c["early_stopping_patience"]), stop_after=int(c["stop_after_grokking"]))
    return loop, state


def _compile_fallback(tracker: Tracker, s: TrainState, message: str) -> None:
    """A compilation that failed (training goes on eagerly), as an event at the current step."""
    tracker.event("compile_fallback", epoch=s.epoch, step=s.step, error=message)


def restore(loop: Loop, s: TrainState) -> bool:
    """Load the newest checkpoint that loads into ``s``; False when the run has none yet (a run
    stopped or killed before its first checkpoint starts again from step 0)."""
    tracker = loop.tracker
    loaded = ckpt.load_for_resume(loop.paths.checkpoints)
    if loaded is None:
        kept = tracker.resume(-1)
        tracker.event("resume", epoch=0, step=0, rows_kept=len(kept), from_start=True)
        print("no checkpoint yet: starting from step 0", flush=True)
        return False
    payload, used, skipped = loaded
    s.from_checkpoint(payload)
    kept = tracker.resume(s.step)
    if skipped:
        tracker.event("checkpoint_fallback", epoch=loop.now(s), step=s.step, used=used.name,
                      skipped=[name for name, _ in skipped], error="; ".join(f"{n}: {why}" for n, why in skipped))
        print(f"resuming from {used.name}: " + "; ".join(f"{n} {why}" for n, why in skipped), flush=True)
    tracker.event("resume", epoch=loop.now(s), step=s.step, rows_kept=len(kept))
    print(f"resumed at epoch {loop.now(s)} (step {s.step})", flush=True)
    s.grok_epoch = tracker.detector.result.grokking_epoch
    return True


# -- the loop ----------------------------------------------------------------------------------
def run_loop(loop: Loop, s: TrainState) -> str | None:
    """Train until the cadence says done, a stop is asked for, or a reason to end early comes up
    (returned: ``early_stopping`` or ``stop_after_grokking``)."""
    loop.last_latest = time.time()
    s.model.train()
    ended: str | None = None
    while ended is None and not loop.cadence.finished(s.epoch, s.step, s.batch_in_epoch):
        if loop.stop.set:
            break
        ended = run_epoch(loop, s)
    return ended


def run_epoch(loop: Loop, s: TrainState) -> str | None:
    """The rest of the current epoch (all of it at its start): steps, then evaluations as due.

    Epoch-counted runs evaluate at the epoch's end; step-counted runs after the steps the cadence
    names, and leave the epoch early at a stop or at ``max_steps``.
    """
    cad = loop.cadence
    batches = start_epoch(loop, s) if s.batch_in_epoch == 0 else _resume_inside_epoch(
        s.task, s.data_gen, s.epoch_rng, s.batch_in_epoch)
    evaluated_at = -1
    while True:
        group = list(itertools.islice(batches, cad.accum))
        if not group:
            s.batch_in_epoch = 0  # the epoch is complete
            break
        s.step += 1
        optimizer_step(loop, s, group)
        s.batch_in_epoch += len(group)
        if not cad.by_steps:
            continue
        if cad.eval_after_step(s.step):
            evaluate(loop, s)
            evaluated_at = s.step
            ended = after_evaluation(loop, s, cad.checkpoint_after_step(s.step))
            if ended:
                return ended
        elif cad.checkpoint_after_step(s.step):
            save(loop, s, periodic=True)
            loop.last_latest = time.time()
        if loop.stop.set or cad.finished(s.epoch, s.step, s.batch_in_epoch):
            break
    if s.batch_in_epoch == 0 and evaluated_at != s.step and cad.eval_after_epoch(s.epoch):
        evaluate(loop, s)
        return after_evaluation(loop, s, cad.checkpoint_after_epoch(s.epoch))
    return None


def start_epoch(loop: Loop, s: TrainState) -> Iterator[Any]:
    """Open the next epoch: the task's epoch work, then its batch order drawn from the data generator."""
    s.epoch += 1
    with loop.autocast():
        s.task.begin_epoch(s.model, s.epoch, s.data_gen)
    s.model.train()
    s.epoch_rng = s.data_gen.get_state() if loop.cadence.by_steps else None
    return iter(s.task.train_batches(s.data_gen))


def optimizer_step(loop: Loop, s: TrainState, group: list[Any]) -> None:
    """One optimizer step over ``group`` (``grad_accum_steps`` batches, fewer at an epoch's end)."""
    s.optimizer.zero_grad(set_to_none=True)
    for batch in group:
        with loop.autocast():
            loss = s.task.training_loss(loop.train_model, batch, s.step)
        # The mean over the group's batches: with equal batches, the gradient of their union.
        (loss if len(group) == 1 else loss / len(group)).backward()
    if s.grad_filter:
        s.grad_filter.apply(s.model)
    clip = float(s.config["grad_clip"])
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(s.model.parameters(), clip)
    s.optimizer.step()
    s.scheduler.step()


# -- eval --------------------------------------------------------------------------------------
def evaluate(loop: Loop, s: TrainState) -> None:
    """One history row: the task's metrics and the weight norm; early stopping and grokking
    bookkeeping. A row with a non-finite loss or weight norm raises :class:`Diverged`."""
    s.model.eval()
    with loop.autocast():
        metrics = s.task.evaluate(s.model)
    s.model.train()
    metrics["weight_norm"] = weight_norm(s.model)
    row = loop.tracker.log(epoch=loop.now(s), step=s.step, **metrics)
    value = row.get(loop.es_metric)
    if value is not None:
        value = -value if loop.es_metric.endswith("loss") else value
        if value > s.best + 1e-9:
            s.best, s.bad_evals = value, 0
        else:
            s.bad_evals += 1
    if s.grok_epoch is None and loop.tracker.grokking_detected:
        s.grok_epoch = loop.now(s)
    print(f"epoch {loop.now(s)} step {s.step} " + " ".join(
        f"{k}={row[k]:.4f}" for k in ("train_acc", "val_acc", "ood_acc") if k in row), flush=True)


def after_evaluation(loop: Loop, s: TrainState, periodic: bool) -> str | None:
    """Save as due; the reason to end training early, if any."""
    if periodic or time.time() - loop.last_latest >= LATEST_EVERY_SECONDS:
        save(loop, s, periodic)
        loop.last_latest = time.time()
    if loop.patience and s.bad_evals >= loop.patience:
        loop.tracker.event("early_stop", epoch=loop.now(s), step=s.step, metric=loop.es_metric,
                           patience=loop.patience)
        return "early_stopping"
    if loop.stop_after >= 0 and s.grok_epoch is not None and loop.now(s) - s.grok_epoch >= loop.stop_after:
        return "stop_after_grokking"
    return None


# -- checkpoint --------------------------------------------------------------------------------
def save(loop: Loop, s: TrainState, periodic: bool) -> None:
    """``latest.pt`` always; a periodic save also keeps ``step_<N>.pt`` (and the task's artifacts)
    and prunes the oldest kept ones."""
    payload = s.to_checkpoint()
    paths = loop.paths
    ckpt.save(paths.latest_checkpoint, payload)
    if periodic:
        ckpt.save(paths.step_checkpoint(s.step), payload)
        s.task.save_artifacts(s.model, paths.checkpoints / f"step_{s.step}")
        ckpt.prune(paths.checkpoints, int(s.config["keep_checkpoints"]))


def _resume_inside_epoch(task: Task, data_gen: torch.Generator, epoch_rng: Any, done: int) -> Iterator[Any]:
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


# -- the run from start to end -----------------------------------------------------------------
def train(run_dir: Path, resume: bool = False) -> int:
    """Train the run in ``run_dir``; returns the process exit code."""
    stop = StopFlag()  # first: a `grok stop` sent while the process was starting is a stop
    paths = RunPaths(Path(run_dir))
    config = read_json(paths.config)
    tracker = Tracker(run_dir=paths.root, own_lifecycle=True, progress_metrics=progress_metrics(config),
                      detection=detection_config(config) if isinstance(config, dict) else None)
    if stop.set:
        return _stopped_while_starting(paths, tracker, resume)
    try:
        with global_flags_restored():
            return _train(paths, config, tracker, stop, resume)
    except Diverged as exc:  # a result, not a crash: the tracker has recorded the run as failed
        print(f"failed: {exc}", flush=True)
        return 1
    except Exception as exc:  # the run fails, but leaves a clear record
        traceback.print_exc()
        return _failed(tracker, exc)


def _train(paths: RunPaths, c: dict[str, Any], tracker: Tracker, stop: StopFlag, resume: bool) -> int:
    loop, state = build(paths, c, tracker, stop)
    resumed = restore(loop, state) if resume else False
    if stop.set:
        # Stopped while starting (before any training step): the run's files stay as they were
        # (no new checkpoint); it resumes from where it was, or from step 0.
        tracker.event("stop", epoch=loop.now(state), step=state.step)
        tracker.finish(status="stopped", exit_code=EXIT_STOPPED, extra={"end_reason": "stopped"})
        print(f"stopped at epoch {loop.now(state)} (step {state.step}) before training", flush=True)
        return EXIT_STOPPED
    if not resumed:
        evaluate(loop, state)
        save(loop, state, periodic=False)
    ended = run_loop(loop, state)
    return finish(loop, state, ended)


def finish(loop: Loop, s: TrainState, ended: str | None) -> int:
    """Keep the last checkpoint and write the final summary: ``stopped`` at a stop, else
    ``finished`` with the task's final metrics."""
    save(loop, s, periodic=True)
    stopped = loop.stop.set
    extra: dict[str, Any] = {"end_reason": "stopped" if stopped else ended or "completed"}
    if stopped:
        loop.tracker.event("stop", epoch=loop.now(s), step=s.step)
    else:
        s.model.eval()
        with torch.no_grad(), loop.autocast():
            extra.update(s.task.final_metrics(s.model))
    status = "stopped" if stopped else "finished"
    loop.tracker.finish(status=status, exit_code=EXIT_STOPPED if stopped else 0, extra=extra)
    print(f"{status} at epoch {loop.now(s)} (step {s.step})", flush=True)
    return EXIT_STOPPED if stopped else 0


def _failed(tracker: Tracker, exc: Exception) -> int:
    """Record a run an exception ended: ``failed``, its error in a ``crash`` event, the summary and
    ``run.json``. A full disk (:class:`DiskFull`, its message naming the file) may refuse the event
    and the summary too; ``run.json``, small and written last, may still take the error."""
    error = str(exc) if is_disk_error(exc) else f"{type(exc).__name__}: {exc}"
    try:
        tracker.event("crash", error=error)
    except OSError as refused:
        if not is_disk_error(refused):
            raise
    tracker.finish(status="failed", exit_code=1, extra={"error": error}, error=error)
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m grokconsole.train.loop RUN_DIR [--resume]", file=sys.stderr)
        return 2
    return train(Path(argv[0]), resume="--resume" in argv[1:])


if __name__ == "__main__":
    sys.exit(main())
