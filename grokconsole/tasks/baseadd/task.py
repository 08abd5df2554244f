"""Task ``baseadd``: supervised fine-tuning (LoRA or full) of a causal LM on base-N addition.

The model is any local Hugging Face causal LM (``model_path``) or the built-in tiny model. Each
training example is a prompt and its completion (the answer, or the carry trace and the answer
with ``cot``) followed by EOS; the loss covers the completion. Evaluation generates greedily
(batched, KV cache) and scores exact match of the answer: the training problems (``train_acc``),
held-out problems of the training base and length (``val_acc``), the longer numbers of the
training base (``ood_acc``) and every base × digits slice (``acc_b<base>_d<digits>``). The first
evaluation, before any step, is the untuned model's baseline.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from grokconsole.llm.generate import generate
from grokconsole.llm.loading import keep_placement, load_model, load_options, load_tokenizer, record_options
from grokconsole.llm.paths import resolve_model_path
from grokconsole.llm.sft import (Example, apply_finetuning, collate, dataset_loss, encode_example,
                                 mean_token_loss, save_finetuned)
from grokconsole.tasks.baseadd.data import RunData, build_run_data, int_list, slice_key, write_run_data
from grokconsole.tasks.baseadd.problems import Problem, is_correct
from grokconsole.tasks.api import Batch, Task, n_minibatches

class BaseAdd(Task):
    name = "baseadd"

    def __init__(self, config: dict[str, Any], device: torch.device) -> None:
        super().__init__(config, device)
        self.model_folder = resolve_model_path(config.get("model_path") or None)
        self.tokenizer = load_tokenizer(self.model_folder)
        self.load = load_options(config, device)
        self.cot = bool(config["cot"])
        self.data: RunData = build_run_data(config)
        self.batch_size = int(config["batch_size"]) or len(self.data.train)
        self.examples = [self._encode(p) for p in self.data.train]
        n_score = int(config["train_eval_size"])
        self.train_scored = self.data.train[:n_score]
        self.val_examples = [self._encode(p) for p in self.data.val[:n_score]]
        self.eval_batch = int(config["eval_batch"])
        self.base, self.digits = int(config["base"]), int(config["n_digits"])
        self.ood_slices = [(self.base, d) for d in sorted(set(int_list(config["eval_digits"]))) if d > self.digits]

    def prepare_run_folder(self, root: Path) -> None:
        """``data/train.jsonl``, ``data/val.jsonl``, ``data/eval.jsonl``: what the run trains and is
        scored on (rewritten identically on resume: the data is a function of the config); the
        dtype the model is loaded in goes into ``config.json``."""
        write_run_data(root / "data", self.data)
        record_options(root, self.load)

    def _encode(self, p: Problem) -> Example:
        return encode_example(self.tokenizer, p.prompt(self.cot), p.completion(self.cot))

    def build_model(self) -> nn.Module:
        c = self.config
        model, _ = load_model(self.model_folder, self.device, options=self.load)
        model = apply_finetuning(model, str(c["finetune"]), lora_r=int(c["lora_r"]), lora_alpha=int(c["lora_alpha"]),
                                 lora_dropout=float(c["lora_dropout"]), lora_targets=str(c["lora_targets"]),
                                 gradient_checkpointing=bool(c.get("gradient_checkpointing", False)))
        model.train()
        return keep_placement(model)

    def steps_per_epoch(self) -> int:
        return n_minibatches(len(self.examples), self.batch_size)

    def train_batches(self, generator: torch.Generator) -> Iterator[Batch]:
        order = torch.randperm(len(self.examples), generator=generator).tolist()
        pad = int(self.tokenizer.pad_token_id)
        for start in range(0, len(order), self.batch_size):
            yield collate([self.examples[i] for i in order[start:start + self.batch_size]], pad, self.device)

    def training_loss(self, model: nn.Module, batch: Batch, step: int) -> torch.Tensor:
        return mean_token_loss(model, batch)

    def _hits(self, model: nn.Module, groups: dict[str, list[Problem]]) -> dict[str, list[bool]]:
        """Exact match of every problem of each group, all generated in one batched pass."""
        flat = [(name, p) for name, probs in groups.items() for p in probs]
        out: dict[str, list[bool]] = {name: [] for name in groups}
        if not flat:
            return out
        longest = max(len(self.tokenizer(p.completion(self.cot), add_special_tokens=False)["input_ids"])
                      for _, p in flat)
        texts = generate(model, self.tokenizer, [p.prompt(self.cot) for _, p in flat],
                         max_new_tokens=longest + 2, batch_size=self.eval_batch)
        for (name, p), text in zip(flat, texts):
            out[name].append(is_correct(text, p, self.cot))
        return out

    @torch.no_grad()
    def evaluate(self, model: nn.Module) -> dict[str, float]:
        own = (self.base, self.digits)
        groups: dict[str, list[Problem]] = {"train_acc": self.train_scored, "val_acc": self.data.val}
        groups.update({slice_key(b, d): probs for (b, d), probs in self.data.slices.items() if (b, d) != own})
        hits = self._hits(model, groups)
        if own in self.data.slices:  # that slice is the head of the validation set
            hits[slice_key(*own)] = hits["val_acc"][: len(self.data.slices[own])]
        out = {name: sum(h) / max(1, len(h)) for name, h in hits.items()}
        if self.ood_slices:
            out["ood_acc"] = sum(out[slice_key(b, d)] for b, d in self.ood_slices) / len(self.ood_slices)
        pad = int(self.tokenizer.pad_token_id)
        out["train_loss"] = dataset_loss(model, self.examples[: len(self.train_scored)], pad, self.device)
        out["val_loss"] = dataset_loss(model, self.val_examples, pad, self.device)
        return out

    def save_artifacts(self, model: nn.Module, folder: Path) -> None:
        save_finetuned(model, self.tokenizer, folder)


TASK_CLASS = BaseAdd
