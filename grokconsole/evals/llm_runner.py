"""The ``grok eval`` job of a language-model task: one model load, every checkpoint, every suite.

The model is built once (the run's task builds it: the base model with its LoRA layers, or the
untuned model alone for a base-model folder); each checkpoint then only swaps its weights in,
and only when a suite has something left to generate. Suites get one
:class:`~grokconsole.tasks.generation.GenerationContext` and generate in large batches. Results go
where every suite's go (``eval/by_checkpoint/step_<STEP>/<suite>.json``); a base-model folder's at
step 0. Slices already on disk are kept unless ``--force``, so a job with new ``--shots`` only adds.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import torch

from grokconsole.runs.evalfiles import EvalPaths
from grokconsole.runs.jsonio import append_jsonl, read_json, write_json_atomic
from grokconsole.runs.lifecycle import now_iso
from grokconsole.runs.base_models import BASE_STEP, MODEL_FILE, is_base_eval_folder
from grokconsole.runs.folder import RunPaths
from grokconsole.tasks.suites import GenerationContext
from grokconsole.tasks.suites import get_suite
from grokconsole.tasks.registry import all_specs, task_spec
from grokconsole.train.loop import resolve_device


def training_pairs(run: RunPaths) -> frozenset[tuple[int, int, int, int]]:
    """(base, digits, x, y) of every training record in ``data/train.jsonl`` (left out of evaluation)."""
    path = run.root / "data" / "train.jsonl"
    if not path.is_file():
        return frozenset()
    from grokconsole.runs.history import parse_jsonl_chunk

    out = set()
    for rec in parse_jsonl_chunk(path.read_bytes()).rows:
        try:
            out.add((int(rec["base"]), int(rec["digits"]), int(rec["x"]), int(rec["y"])))
        except (KeyError, TypeError, ValueError):
            continue
    return frozenset(out)


def _existing(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    data = read_json(path, default=None)
    results = data.get("results") if isinstance(data, dict) else None
    return {k: v for k, v in results.items() if isinstance(v, dict)} if isinstance(results, dict) else {}


class _Source:
    """What the job evaluates: a run's checkpoints, or the untuned model of a base-model folder."""

    def __init__(self, folder: Path, device: torch.device, checkpoints: Any) -> None:
        self.base = is_base_eval_folder(folder)
        self.run = RunPaths(folder)
        if self.base:
            info = read_json(folder / MODEL_FILE)
            task = str(info.get("task") or next(n for n, s in all_specs().items() if s.can("generate")))
            self.config: dict[str, Any] = {**task_spec(task).defaults, "task": task,
                                           "model_path": info.get("model_path") or ""}
            self.steps = [BASE_STEP]
            self.pairs: frozenset[tuple[int, int, int, int]] = frozenset()
        else:
            from grokconsole.evals.runner import Checkpoints

            self.config = read_json(self.run.config)
            self.cks = Checkpoints(self.run, with_latest=checkpoints.kind != "steps")
            self.steps = self.cks.select(checkpoints)
            self.pairs = training_pairs(self.run)
        threads = int(self.config.get("threads") or 0)
        if threads:
            torch.set_num_threads(threads)
        self.device = device
        self.model, self.tokenizer = self._build()

    def _build(self) -> tuple[Any, Any]:
        from grokconsole.llm.loading import load_model, load_tokenizer
        from grokconsole.llm.paths import resolve_model_path

        if self.base:
            return load_model(self.config.get("model_path") or None, self.device)
        from grokconsole.tasks.api import make_task

        task = make_task(self.config, self.device)
        model = task.build_model().to(self.device)
        model.eval()
        return model, load_tokenizer(resolve_model_path(self.config.get("model_path") or None))

    def loader(self, step: int, epochs: dict[int, Any]) -> Callable[[], None]:
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


def evaluate_generation(folder: Path, req: Any, stop: Any = None, log: Any = print) -> str:
    """Do the job for a language-model run or base-model folder; ``finished`` or ``stopped``."""
    ep = EvalPaths(RunPaths(folder))
    ep.root.mkdir(parents=True, exist_ok=True)
    src = _Source(Path(folder), resolve_device(req.device), req.checkpoints)
    task = str(src.config["task"])
    append_jsonl(ep.progress, {"event": "start", "steps": src.steps, "suites": list(req.suites), "interventions": [],
                               "wall": now_iso()})
    for i, step in enumerate(src.steps):
        if stop is not None and stop.set:
            append_jsonl(ep.progress, {"event": "stop", "wall": now_iso()})
            return "stopped"
        epochs: dict[int, Any] = {}
        load = src.loader(step, epochs)
        done: list[str] = []
        t0, generated = time.perf_counter(), 0
        try:
            for suite in req.suites:
                path = ep.suite_file(step, suite)
                existing = _existing(path)
                ctx = GenerationContext(src.model, src.tokenizer, src.config, req.generation, base_model=src.base,
                                        training_pairs=src.pairs, existing=existing, force=req.force,
                                        before_generate=None if epochs else load)
                result = get_suite(task, suite)(ctx).to_json()
                if ctx.generated or not path.exists():
                    epoch = epochs.get(step, _old_epoch(path, step))
                    write_json_atomic(path, {**result, "step": step, "epoch": epoch})
                    done.append(suite)
                    generated += ctx.generated
        except FileNotFoundError:  # pruned by the still-running training since the job started
            append_jsonl(ep.progress, {"event": "checkpoint", "step": step, "epoch": None, "done": done,
                                       "skipped": True, "missing": True, "index": i + 1, "total": len(src.steps),
                                       "wall": now_iso()})
            log(f"step {step}: checkpoint gone (pruned by training), skipped")
            continue
        seconds = time.perf_counter() - t0
        append_jsonl(ep.progress, {"event": "checkpoint", "step": step, "epoch": epochs.get(step), "done": done,
                                   "skipped": not done, "index": i + 1, "total": len(src.steps),
                                   "prompts": generated, "seconds": round(seconds, 3), "wall": now_iso()})
        rate = f" ({generated} prompts, {generated / seconds:.0f}/s)" if generated and seconds > 0 else ""
        log(f"step {step}: " + (", ".join(done) + rate if done else "already evaluated, skipped"))
    append_jsonl(ep.progress, {"event": "end", "wall": now_iso()})
    return "finished"


def _old_epoch(path: Path, step: int) -> Any:
    data = read_json(path, default=None)
    return data.get("epoch", step) if isinstance(data, dict) else step
