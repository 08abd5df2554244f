"""The evaluation work of a ``grok eval`` job (the process itself is ``grokconsole.evals.job``).

The job owns ``runs/<run>/eval/run.json`` (never the training run's), loads each chosen checkpoint,
writes one JSON per suite under ``eval/by_checkpoint/step_<STEP>/``, runs the M4/M5
interventions when asked, and appends its progress to ``eval/progress.jsonl``. Work already
on disk is skipped unless ``--force``. SIGTERM stops it after the checkpoint at hand.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from grokconsole.runs.checkpoint_files import periodic_checkpoints
from grokconsole.evals.request import DEFAULT_ALPHAS, CheckpointSpec, eval_argv, parse_alphas, parse_checkpoints, parse_interventions
from grokconsole.runs.evalfiles import EvalPaths
from grokconsole.tasks.generation import DEFAULT_BATCH, DEFAULT_ICL_GROUP, DEFAULT_PROBLEMS, ICL_DEMOS, GenerationOptions, parse_shots
from grokconsole.runs.base_models import is_base_eval_folder
from grokconsole.runs.jsonio import append_jsonl, read_json, write_json_atomic
from grokconsole.runs.lifecycle import now_iso
from grokconsole.runs.folder import RunPaths
from grokconsole.evals import interventions as iv
from grokconsole.tasks.splits import EvalContext, EvalSplit, eval_splits
from grokconsole.tasks.suites import get_suite
from grokconsole.tasks.registry import find_spec
from grokconsole.train import checkpoint as ckpt
from grokconsole.train.device import resolve_device
from grokconsole.tasks.api import make_task


@dataclass
class EvalRequest:
    """What one eval job does (the command line of the runner)."""

    checkpoints: CheckpointSpec
    suites: tuple[str, ...]
    interventions: tuple[str, ...] = ()
    alphas: tuple[float, ...] = DEFAULT_ALPHAS
    steer_step: int | None = None
    force: bool = False
    device: str = "auto"  # not the run's device: a GPU-trained run can be evaluated on a CPU
    generation: GenerationOptions = field(default_factory=GenerationOptions)  # language-model suites

    def to_argv(self) -> list[str]:
        return eval_argv(self.checkpoints, self.suites, self.interventions, self.alphas, self.steer_step, self.force,
                         self.device, self.generation)

    @classmethod
    def from_argv(cls, argv: list[str]) -> "EvalRequest":
        ap = argparse.ArgumentParser(prog="grokconsole.evals.runner")
        ap.add_argument("--checkpoints", default="all")
        ap.add_argument("--suite", action="append", default=[])
        ap.add_argument("--intervene", default="")
        ap.add_argument("--alphas", default="")
        ap.add_argument("--steer-step", type=int, default=None)
        ap.add_argument("--force", action="store_true")
        ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
        ap.add_argument("--problems", type=int, default=DEFAULT_PROBLEMS)
        ap.add_argument("--shots", default="")
        ap.add_argument("--gen-batch", type=int, default=DEFAULT_BATCH)
        ap.add_argument("--icl-demos", default="plain", choices=ICL_DEMOS)
        ap.add_argument("--icl-group", type=int, default=DEFAULT_ICL_GROUP)
        a = ap.parse_args(argv)
        generation = GenerationOptions(a.problems, parse_shots(a.shots), a.icl_demos, a.gen_batch, a.icl_group)
        return cls(parse_checkpoints(a.checkpoints), tuple(a.suite), parse_interventions(a.intervene),
                   parse_alphas(a.alphas), a.steer_step, a.force, a.device, generation)


class Checkpoints:
    """The run's checkpoints by step; ``latest.pt`` counts when its step has no periodic file."""

    def __init__(self, run: RunPaths, with_latest: bool = True) -> None:
        self.files = dict(periodic_checkpoints(run.checkpoints))
        self._loaded: dict[int, dict[str, Any]] = {}
        latest = run.latest_checkpoint
        if with_latest and latest.exists():  # its step is only known once loaded
            payload = ckpt.load(latest)
            step = int(payload["step"])
            if step not in self.files:
                self.files[step] = latest
                self._loaded[step] = payload
        self.files = dict(sorted(self.files.items()))

    def select(self, spec: CheckpointSpec) -> list[int]:
        if spec.kind == "all":
            return list(self.files)
        if spec.kind == "last":
            return list(self.files)[-1:]
        missing = [s for s in spec.steps if s not in self.files]
        if missing:
            raise ValueError(f"no checkpoint for step {missing[0]}")
        return list(spec.steps)

    def load(self, step: int) -> dict[str, Any]:
        return self._loaded.pop(step, None) or ckpt.load(self.files[step])


def _m4_rows(ep: EvalPaths) -> list[dict[str, Any]]:
    rows = read_json(ep.m4, default=[])
    return rows if isinstance(rows, list) else []


def _m5_done(ep: EvalPaths, step: int) -> bool:
    for f in ep.mechinterp.glob("m5_steering_epoch*.json"):
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


def _generates(config: Any) -> bool:
    spec = find_spec(config.get("task")) if isinstance(config, dict) else None
    return spec is not None and spec.can("generate")


def evaluate_run(run_dir: Path, req: EvalRequest, stop: Any = None, log: Any = print) -> str:
    """Do the job; returns ``finished``, or ``stopped`` once ``stop.set`` turns true."""
    run = RunPaths(Path(run_dir))
    if is_base_eval_folder(run.root) or _generates(read_json(run.config, default=None)):
        from grokconsole.evals.llm_runner import evaluate_generation  # language models: generation suites

        return evaluate_generation(run.root, req, stop, log)
    ep = EvalPaths(run)
    ep.root.mkdir(parents=True, exist_ok=True)
    config = read_json(run.config)
    if req.interventions:
        spec = find_spec(config.get("task"))
        if spec is None or not spec.can("features"):
            raise RuntimeError(f"interventions need a task with the 'features' capability, not {config.get('task')!r}")
    threads = int(config.get("threads") or 0)
    if threads:
        torch.set_num_threads(threads)
    device = resolve_device(req.device)
    task = make_task(config, device)
    splits = eval_splits(task)
    model = task.build_model().to(device)
    cks = Checkpoints(run, with_latest=req.checkpoints.kind != "steps")
    steps = cks.select(req.checkpoints)
    steer_step = req.steer_step if req.steer_step is not None else (steps[-1] if steps else None)
    if "m5" in req.interventions and steer_step not in cks.files:
        raise RuntimeError(f"no checkpoint for the steering step {steer_step}")
    if "m5" in req.interventions and steer_step not in steps:
        steps = sorted([*steps, steer_step])
    append_jsonl(ep.progress, {"event": "start", "steps": steps, "suites": list(req.suites),
                               "interventions": list(req.interventions), "wall": now_iso()})
    for i, step in enumerate(steps):
        if stop is not None and stop.set:
            append_jsonl(ep.progress, {"event": "stop", "wall": now_iso()})
            return "stopped"
        todo = [s for s in req.suites if req.force or not ep.suite_file(step, s).exists()]
        do_m4 = "m4" in req.interventions and (req.force or all(r.get("step") != step for r in _m4_rows(ep)))
        do_m5 = "m5" in req.interventions and step == steer_step and (req.force or not _m5_done(ep, step))
        done: list[str] = []
        epoch = None
        if todo or do_m4 or do_m5:
            try:
                payload = cks.load(step)
            except FileNotFoundError:  # pruned by the still-running training since the job started
                append_jsonl(ep.progress, {"event": "checkpoint", "step": step, "epoch": None, "done": [],
                                           "skipped": True, "missing": True, "index": i + 1, "total": len(steps),
                                           "wall": now_iso()})
                log(f"step {step}: checkpoint gone (pruned by training), skipped")
                continue
            epoch = int(payload.get("epoch", step))
            model.load_state_dict(payload["model"])
            model.eval()
            ctx = EvalContext(model, splits, config)
            for suite in todo:
                result = get_suite(str(config["task"]), suite)(ctx).to_json()
                write_json_atomic(ep.suite_file(step, suite), {**result, "step": step, "epoch": epoch})
                done.append(suite)
            if do_m4 or do_m5:
                done += _intervene(ep, model, ctx, step, epoch, do_m4, do_m5, req.alphas)
        append_jsonl(ep.progress, {"event": "checkpoint", "step": step, "epoch": epoch, "done": done,
                                   "skipped": not done, "index": i + 1, "total": len(steps), "wall": now_iso()})
        log(f"step {step}: " + (", ".join(done) if done else "already evaluated, skipped"))
    append_jsonl(ep.progress, {"event": "end", "wall": now_iso()})
    return "finished"
