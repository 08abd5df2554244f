"""Task ``procedural``: expert iteration or supervised fine-tuning of a causal LM on generated,
exactly verifiable problems.

One iteration is one epoch of the training loop. Expert iteration (``method=expert_iteration``),
at the start of each iteration (:meth:`begin_epoch`): sample ``samples_per_problem`` completions
per training problem from the current model (temperature, batched), verify them exactly, keep the
verified ones as gold (deduplicated, written to ``data/gold/iter_<N>.jsonl``), then train
``steps_per_iteration`` optimizer steps on the gold. Supervised fine-tuning (``method=sft``) trains
the same number of steps per iteration on the ground-truth answers of all training problems.
Evaluation is greedy exact match on training, validation and (every ``test_every`` iterations)
test problems. The built-in model's tokenizer lacks most of the characters these problems use;
they are added as tokens (:mod:`grokconsole.llm.vocab`) whose embeddings train with the adapter.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from grokconsole.runs.jsonio import write_jsonl_atomic
from grokconsole.llm.generate import generate
from grokconsole.llm.loading import keep_placement, load_model, load_options, load_tokenizer, record_options
from grokconsole.llm.paths import resolve_model_path
from grokconsole.llm.sft import Example, apply_finetuning, collate, encode_example, mean_token_loss, save_finetuned
from grokconsole.llm.vocab import add_characters, resize_for
from grokconsole.tasks.procedural.data import build_splits, gold_path, problem_types, write_splits
from grokconsole.tasks.procedural.expert import sample_round, sampler_generator
from grokconsole.tasks.procedural.generators import ALPHABET, Record
from grokconsole.tasks.procedural.spec import BUILTIN_MODEL, type_key
from grokconsole.tasks.procedural.verify import verify
from grokconsole.tasks.api import Batch, Task

class Procedural(Task):
    name = "procedural"

    def __init__(self, config: dict[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        c = config
        self.model_folder = resolve_model_path(c.get("model_path") or None, BUILTIN_MODEL)
        self.tokenizer = load_tokenizer(self.model_folder)
        self.load = load_options(c, device)
        self.new_tokens = add_characters(self.tokenizer, ALPHABET)
        self.splits = build_splits(c)
        self.types = problem_types(c["problem_types"])
        self.method = str(c["method"])
        self.steps = int(c["steps_per_iteration"])
        self.batch_size = int(c["batch_size"])
        self.max_new_tokens = int(c["max_new_tokens"])
        self.eval_batch = int(c["eval_batch"])
        self.test_every = int(c["test_every"])
        self.train_scored = self.splits.train[: int(c["train_eval_size"])]
        self.truth = [encode_example(self.tokenizer, r.prompt, r.answer) for r in self.splits.train]
        self.data_folder: Path | None = None
        self.examples: list[Example] = []
        # Carried across evaluations (and so in checkpoints): see state_dict.
        self.iteration = 0
        self.loss_sum, self.loss_n = 0.0, 0
        self.round: dict[str, float] = {}
        self.gold_total = 0

    # -- run folder and model ----------------------------------------------------------------
    def prepare_run_folder(self, root: Path) -> None:
        """``data/train.jsonl``, ``val.jsonl``, ``test.jsonl`` (rewritten identically on resume); the
        dtype the model is loaded in goes into ``config.json``."""
        self.data_folder = root / "data"
        write_splits(self.data_folder, self.splits)
        record_options(root, self.load)

    def build_model(self) -> nn.Module:
        c = self.config
        model, _ = load_model(self.model_folder, self.device, options=self.load)
        resize_for(model, self.tokenizer, self.new_tokens)
        model = apply_finetuning(model, str(c["finetune"]), lora_r=int(c["lora_r"]), lora_alpha=int(c["lora_alpha"]),
                                 lora_dropout=float(c["lora_dropout"]), lora_targets=str(c["lora_targets"]),
                                 trainable_tokens=self.new_tokens,
                                 gradient_checkpointing=bool(c.get("gradient_checkpointing", False)))
        model.train()
        return keep_placement(model)

    # -- one iteration -----------------------------------------------------------------------
    def begin_epoch(self, model: nn.Module, epoch: int, generator: torch.Generator) -> None:
        """The iteration's training data: gold sampled from the model, or the ground truth."""
        self.iteration = epoch
        if self.method == "sft":
            self.examples = self.truth
            self.round = {"gold_count": len(self.truth)}
            self.gold_total += len(self.truth)
            return
        model.eval()
        c = self.config
        result = sample_round(model, self.tokenizer, self.splits.train,
                              samples_per_problem=int(c["samples_per_problem"]), temperature=float(c["temperature"]),
                              max_new_tokens=self.max_new_tokens, batch_size=self.eval_batch,
                              generator=sampler_generator(generator, self.device))
        if self.data_folder is not None:
            write_jsonl_atomic(gold_path(self.data_folder, epoch), result.gold)
        self.examples = [encode_example(self.tokenizer, g["prompt"], g["completion"]) for g in result.gold]
        self.round = {"gold_count": len(result.gold), "sample_acc": result.sample_acc,
                      "solved_frac": result.solved / max(1, len(self.splits.train))}
        self.gold_total += len(result.gold)

    def steps_per_epoch(self) -> int:
        return self.steps

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        """``steps_per_iteration`` batches from the iteration's examples: shuffled passes over
        them, one after another, cut into batches.

        An iteration without gold yields ``None`` batches: steps that train nothing (their loss
        reaches no parameter, so no gradient exists and the optimizer leaves every weight and its
        own state alone) but are counted, so that every iteration ends at its own step number
        (checkpoints are named by step, and a resume truncates history by step) and both methods
        are compared at equal steps."""
        n = len(self.examples)
        if n == 0:
            for _ in range(self.steps):
                yield None
            return
        need = self.steps * self.batch_size
        order: list[int] = []
        while len(order) < need:
            order += torch.randperm(n, generator=generator).tolist()
        pad = int(self.tokenizer.pad_token_id)
        for s in range(self.steps):
            yield collate([self.examples[i] for i in order[s * self.batch_size:(s + 1) * self.batch_size]],
                          pad, self.device)

    def training_loss(self, model: nn.Module, batch: Batch, step: int) -> torch.Tensor:
        if batch is None:  # no gold this iteration: a step that changes nothing
            return torch.zeros((), device=self.device, requires_grad=True)
        loss = mean_token_loss(model, batch)
        self.loss_sum += float(loss.detach())
        self.loss_n += 1
        return loss

    # -- evaluation --------------------------------------------------------------------------
    def _hits(self, model: nn.Module, groups: dict[str, list[Record]]) -> dict[str, list[bool]]:
        """Greedy exact match of every record of each group, in one batched pass."""
        flat = [(name, r) for name, records in groups.items() for r in records]
        texts = generate(model, self.tokenizer, [r.prompt for _, r in flat], max_new_tokens=self.max_new_tokens,
                         batch_size=self.eval_batch)
        out: dict[str, list[bool]] = {name: [] for name in groups}
        for (name, r), text in zip(flat, texts):
            out[name].append(verify(text, r.answer))
        return out

    def _accuracies(self, model: nn.Module, with_test: bool) -> dict[str, float]:
        groups = {"train_acc": self.train_scored, "val_acc": self.splits.val}
        if with_test:
            groups["test_acc"] = self.splits.test
        hits = self._hits(model, groups)
        out: dict[str, float] = {name: sum(h) / max(1, len(h)) for name, h in hits.items()}
        for split in ("val", "test"):
            key = f"{split}_acc"
            if key not in hits:
                continue
            records = getattr(self.splits, split)
            for t in self.types:
                mine = [h for h, r in zip(hits[key], records) if r.type == t]
                if mine:
                    out[type_key(split, t)] = sum(mine) / len(mine)
        return out

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, Any]:
        out: dict[str, Any] = {"iteration": self.iteration}
        last = self.iteration == int(self.config["epochs"])
        out.update(self._accuracies(model, self.iteration % self.test_every == 0 or last))
        out["generalization_gap"] = out["train_acc"] - out["val_acc"]
        if self.loss_n:
            out["loss"] = self.loss_sum / self.loss_n
        self.loss_sum, self.loss_n = 0.0, 0
        out.update(self.round)
        out["gold_total"] = self.gold_total
        return out

    def final_metrics(self, model: nn.Module) -> dict[str, Any]:
        """The last model's test accuracy (whatever ``test_every`` says) and the gold it used."""
        acc = self._accuracies(model, with_test=True)
        return {"method": self.method, "final_test_acc": acc["test_acc"], "final_val_acc": acc["val_acc"],
                "gold_total": self.gold_total, "iterations": self.iteration}

    def state_dict(self) -> dict[str, Any]:
        return {"iteration": self.iteration, "loss_sum": self.loss_sum, "loss_n": self.loss_n,
                "round": dict(self.round), "gold_total": self.gold_total}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.iteration = int(state.get("iteration", 0))
        self.loss_sum, self.loss_n = float(state.get("loss_sum", 0.0)), int(state.get("loss_n", 0))
        self.round = dict(state.get("round") or {})
        self.gold_total = int(state.get("gold_total", 0))

    def save_artifacts(self, model: nn.Module, folder: Path) -> None:
        save_finetuned(model, self.tokenizer, folder)


TASK_CLASS = Procedural
