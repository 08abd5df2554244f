"""Evaluating a language-model task: one model load, every checkpoint, the generation suites.

The model is built once (the run's task builds it: the base model with its LoRA layers, or the
untuned model alone for a base-model folder); each checkpoint then only swaps its weights in,
and only when a suite has something left to generate. Suites get one
:class:`~grokconsole.tasks.suites.GenerationContext` and generate in large batches. Results go
where every suite's go (``eval/by_checkpoint/step_<STEP>/<suite>.json``); a base-model folder's at
step 0. Slices already on disk are kept unless ``--force``, so a job with new ``--shots`` only adds.
Beside each result, ``<suite>.samples.jsonl.gz`` holds one record per prompt of every slice
computed here (and keeps those of the slices kept); slices cut for want of context are listed
under the result's ``cut`` and reported in the progress event's ``warnings``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import torch

from grokconsole.evals.checkpoints import Checkpoints, StepOutcome
from grokconsole.evals.request import EvalRequest
from grokconsole.runs.base_models import BASE_STEP, MODEL_FILE, is_base_eval_folder
from grokconsole.runs.evalfiles import EvalPaths
from grokconsole.runs.folder import RunPaths
from grokconsole.runs.jsonio import read_json, write_json_atomic
from grokconsole.tasks.generation import GenerationOptions
from grokconsole.tasks.registry import task_spec, tasks_that_can
from grokconsole.runs.samples import read_samples, write_samples
from grokconsole.tasks.suites import GenerationContext, SuiteResult, get_suite
from grokconsole.train.device import resolve_device


def _old_file(path: Path) -> dict[str, Any]:
    data = read_json(path, default=None) if path.exists() else None
    return data if isinstance(data, dict) else {}


def _existing(old: dict[str, Any]) -> dict[str, dict[str, Any]]:
    results = old.get("results")
    return {k: v for k, v in results.items() if isinstance(v, dict)} if isinstance(results, dict) else {}


def _merged_cut(old: dict[str, Any], result: dict[str, Any]) -> dict[str, str]:
    """Slices not scored for want of context: this call's, and those of before that stay unscored."""
    before = old.get("cut") if isinstance(old.get("cut"), dict) else {}
    cut = {k: str(v) for k, v in before.items() if k not in result["results"]}
    cut.update(result.get("cut") or {})
    return cut


def _write_samples(path: Path, result: SuiteResult, slices: list[str]) -> None:
    """The suite's samples file: this call's records, and those on disk of the slices it kept, in
    the order of the result's slices (so every slice's value is the mean of its records)."""
    fresh = {s.slice for s in result.samples}
    by_slice: dict[str, list[dict[str, Any]]] = {}
    for rec in read_samples(path):
        if rec.get("slice") not in fresh:
            by_slice.setdefault(str(rec.get("slice")), []).append(rec)
    for sample in result.samples:
        by_slice.setdefault(sample.slice, []).append(sample.to_json())
    write_samples(path, [rec for name in slices for rec in by_slice.get(name, [])])


class GenerationEvaluator:
    """A run's checkpoints, or the untuned model of a base-model folder, through the generation suites."""

    interventions: tuple[str, ...] = ()
    unit = "prompts"

    def __init__(self, run: RunPaths, req: EvalRequest) -> None:
        self.ep, self.req = EvalPaths(run), req
        self.options = req.generation or GenerationOptions()
        self.base = is_base_eval_folder(run.root)
        self.run_dir: Path | None = None if self.base else run.root
        if self.base:
            info = read_json(run.root / MODEL_FILE)
            task = str(info.get("task") or tasks_that_can("generate")[0])
            self.config: dict[str, Any] = {**task_spec(task).defaults, "task": task,
                                           "model_path": info.get("model_path") or ""}
            self.steps = [BASE_STEP]
        else:
            self.config = read_json(run.config)
            self.cks = Checkpoints(run, with_latest=req.checkpoints.kind != "steps")
            self.steps = self.cks.select(req.checkpoints)
        threads = int(self.config.get("threads") or 0)
        if threads:
            torch.set_num_threads(threads)
        self.device = resolve_device(req.device)
        self.model, self.tokenizer = self._build()

    def _build(self) -> tuple[Any, Any]:
        from grokconsole.llm.loading import load_model, load_options, load_tokenizer
        from grokconsole.llm.paths import resolve_model_path

        if self.base:  # the untuned model in the dtype a run of its task would use (model_dtype=auto)
            options = load_options(self.config, self.device) if "model_dtype" in self.config else None
            return load_model(self.config.get("model_path") or None, self.device, options=options)
        from grokconsole.tasks.api import make_task

        task = make_task(self.config, self.device)
        model = task.build_model().to(self.device)
        model.eval()
        return model, load_tokenizer(resolve_model_path(self.config.get("model_path") or None))

    def _loader(self, step: int, epochs: dict[int, Any]) -> Callable[[], None]:
        """Swap in the checkpoint's weights (nothing for an untuned model); records its epoch."""
        def load() -> None:
            if self.base:
                epochs[step] = 0
                return
            payload = self.cks.load(step)
            self.model.load_state_dict(payload["model"])
            self.model.eval()
            epochs[step] = int(payload.get("epoch", step))
        return load

    def evaluate(self, step: int) -> StepOutcome:
        epochs: dict[int, Any] = {}
        load = self._loader(step, epochs)
        out = StepOutcome()
        task = str(self.config["task"])
        try:
            for suite in self.req.suites:
                path = self.ep.suite_file(step, suite)
                old = _old_file(path)
                ctx = GenerationContext(self.model, self.tokenizer, self.config, self.options, base_model=self.base,
                                        run_dir=self.run_dir, existing=_existing(old), force=self.req.force,
                                        before_generate=None if epochs else load)
                result = get_suite(task, suite)(ctx)
                data = result.to_json()
                cut = _merged_cut(old, data)
                data.pop("cut", None)
                out.warnings += [f"{suite} {name} not scored: {why}" for name, why in result.cut.items()]
                if ctx.generated or not path.exists() or cut != old.get("cut", {}):
                    epoch = epochs.get(step, old.get("epoch", step))
                    _write_samples(self.ep.samples_file(step, suite), result, list(data["results"]))
                    write_json_atomic(path, {**data, **({"cut": cut} if cut else {}), "step": step, "epoch": epoch})
                    out.done.append(suite)
                    out.work += ctx.generated
        except FileNotFoundError:  # pruned by the still-running training since the job started
            out.missing = True
        out.epoch = epochs.get(step)
        return out
