"""Evaluating a task scored on labelled splits: its suites per checkpoint, and the M4/M5 interventions.

The task builds its model and names its splits (:func:`grokconsole.tasks.splits.eval_splits`); each
checkpoint's weights are swapped in, every suite reads the same :class:`EvalContext` (outputs
computed once) and writes ``eval/by_checkpoint/step_<STEP>/<suite>.json``. M4 adds a row per
checkpoint to the ablation trajectory; M5 sweeps the steering coefficients at one checkpoint.
Work already on disk is skipped unless ``--force``.
"""
from __future__ import annotations

from typing import Any

import torch

from grokconsole.evals import interventions as iv
from grokconsole.evals.checkpoints import Checkpoints, StepOutcome
from grokconsole.evals.request import EvalRequest
from grokconsole.runs.evalfiles import M5_GLOB, EvalPaths
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.tasks.api import make_task
from grokconsole.tasks.registry import can
from grokconsole.tasks.splits import EvalContext, EvalSplit, eval_splits
from grokconsole.tasks.suites import get_suite
from grokconsole.train.device import resolve_device


def _m4_rows(ep: EvalPaths) -> list[dict[str, Any]]:
    rows = read_json(ep.m4, default=[])
    return rows if isinstance(rows, list) else []


def _m5_done(ep: EvalPaths, step: int) -> bool:
    for f in ep.mechinterp.glob(M5_GLOB):
        data = read_json(f, default={})
        if isinstance(data, dict) and data.get("step") == step:
            return True
    return False


def _probe_data(splits: list[EvalSplit], ctx: EvalContext) -> tuple[torch.Tensor, ...]:
    """Training features, probe targets and labels; OOD features and labels (all OOD splits together)."""
    train = [s for s in splits if not s.ood and s.probe_target is not None]
    train = [s for s in train if s.name == "train"] or train[:1]
    ood = [s for s in splits if s.ood]
    if not train or not ood:
        raise RuntimeError("interventions need a training split with environment (or shortcut) labels "
                           "and at least one OOD split")
    tf, tt = ctx.outputs(train[0]).features, train[0].probe_target.cpu()
    of = torch.cat([ctx.outputs(s).features for s in ood])
    oy = torch.cat([s.y.cpu() for s in ood])
    return tf, tt, train[0].y.cpu(), of, oy


def _intervene(ep: EvalPaths, model: torch.nn.Module, ctx: EvalContext, step: int, epoch: int, do_m4: bool,
               do_m5: bool, alphas: tuple[float, ...]) -> list[str]:
    """M4 (a trajectory row for this checkpoint) and/or M5 (a sweep file); returns what was done."""
    tf, tt, ty, of, oy = _probe_data(ctx.splits, ctx)
    probe = iv.fit_probe(tf, tt, labels=ty)  # the shortcut's effect at fixed label
    done = []
    if do_m4:
        raw, ablated = iv.m4_point(model.head, probe, of, oy)
        rows = [r for r in _m4_rows(ep) if r.get("step") != step]
        rows.append({"epoch": epoch, "step": step, "head_ood_acc_raw": raw, "head_ood_acc_ablated": ablated,
                     "probe_acc": probe.probe_accuracy, "probe_acc_after": probe.residual_accuracy,
                     "directions": probe.directions.shape[1]})
        write_json_atomic(ep.m4, sorted(rows, key=lambda r: (r.get("epoch", 0), r.get("step", 0))))
        done.append("m4")
    if do_m5:
        sweep = iv.m5_sweep(model.head, probe, of, oy, alphas)
        write_json_atomic(ep.m5(epoch), {"epoch": epoch, "step": step, "sigma": probe.sigma,
                                         "probe_acc": probe.probe_accuracy, "sweep": sweep})
        done.append("m5")
    return done


class SplitEvaluator:
    """Suites over the task's labelled splits, and M4/M5 where the task has ``features``."""

    unit = None

    def __init__(self, run: RunPaths, req: EvalRequest) -> None:
        self.ep, self.req = EvalPaths(run), req
        self.config = read_json(run.config)
        self.interventions = req.interventions
        if req.interventions:
            if not can(self.config.get("task"), "features"):
                raise RuntimeError(f"interventions need a task with the 'features' capability, "
                                   f"not {self.config.get('task')!r}")
        threads = int(self.config.get("threads") or 0)
        if threads:
            torch.set_num_threads(threads)
        device = resolve_device(req.device)
        task = make_task(self.config, device)
        self.splits = eval_splits(task)
        self.model = task.build_model().to(device)
        self.cks = Checkpoints(run, with_latest=req.checkpoints.kind != "steps")
        steps = self.cks.select(req.checkpoints)
        self.steer_step = req.steer_step if req.steer_step is not None else (steps[-1] if steps else None)
        if "m5" in req.interventions and self.steer_step not in self.cks.files:
            raise RuntimeError(f"no checkpoint for the steering step {self.steer_step}")
        if "m5" in req.interventions and self.steer_step not in steps:
            steps = sorted([*steps, self.steer_step])
        self.steps = steps

    def evaluate(self, step: int) -> StepOutcome:
        req, ep = self.req, self.ep
        todo = [s for s in req.suites if req.force or not ep.suite_file(step, s).exists()]
        do_m4 = "m4" in req.interventions and (req.force or all(r.get("step") != step for r in _m4_rows(ep)))
        do_m5 = "m5" in req.interventions and step == self.steer_step and (req.force or not _m5_done(ep, step))
        if not (todo or do_m4 or do_m5):
            return StepOutcome()
        try:
            payload = self.cks.load(step)
        except FileNotFoundError:  # pruned by the still-running training since the job started
            return StepOutcome(missing=True)
        epoch = int(payload.get("epoch", step))
        self.model.load_state_dict(payload["model"])
        self.model.eval()
        ctx = EvalContext(self.model, self.splits, self.config)
        done: list[str] = []
        for suite in todo:
            result = get_suite(str(self.config["task"]), suite)(ctx).to_json()
            write_json_atomic(ep.suite_file(step, suite), {**result, "step": step, "epoch": epoch})
            done.append(suite)
        if do_m4 or do_m5:
            done += _intervene(ep, self.model, ctx, step, epoch, do_m4, do_m5, req.alphas)
        return StepOutcome(done, epoch)
