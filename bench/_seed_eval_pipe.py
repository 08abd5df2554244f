"""The peer of ``grok eval`` in bench/llm_eval_speed.py: the user's way of evaluating, one command per
(model, base, digits, k) — a fresh process that imports transformers, loads the model (and the LoRA
adapter), and asks ``model.generate`` one prompt at a time, greedy, as the user's ``eval_pipe.py``
does. The questions are the ones ``grok eval`` asks (same seed), so the two agree on accuracy.

Run: ``python bench/_seed_eval_pipe.py --base 8 --model_name DIR [--adapter DIR] --size 250
--n_digits 2 [--n_shots K] [--icl_cot] [--cot]``; prints ``accuracy <value> <n> <seconds>``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=int, required=True)
    ap.add_argument("--model_name", required=True)
    ap.add_argument("--adapter", default="")
    ap.add_argument("--size", type=int, default=250)
    ap.add_argument("--n_digits", type=int, default=2)
    ap.add_argument("--n_shots", type=int, default=0)
    ap.add_argument("--icl_cot", action="store_true")
    ap.add_argument("--cot", action="store_true", help="the tuned model's own format (0-shot)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    t0 = time.perf_counter()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from grokconsole.tasks.generation import DEFAULT_ICL_GROUP
    from grokconsole.tasks.baseadd.problems import icl_prompts, is_correct, make_problems
    from grokconsole.tasks.baseadd.suites import EVAL_SEED

    torch.set_num_threads(a.threads)
    tok = AutoTokenizer.from_pretrained(a.model_name)
    model = AutoModelForCausalLM.from_pretrained(a.model_name)
    if a.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, a.adapter)
    model.eval()
    cot = a.icl_cot if a.n_shots else a.cot
    problems = make_problems(a.base, a.n_digits, a.size, EVAL_SEED)
    # grok eval's icl questions (demonstrations shared by groups of queries), one prompt at a time
    prompts = (icl_prompts(problems, a.n_shots, cot, EVAL_SEED, DEFAULT_ICL_GROUP) if a.n_shots
               else [p.prompt(cot) for p in problems])
    need = max(len(tok(p.completion(cot), add_special_tokens=False)["input_ids"]) for p in problems) + 2
    newline = [i for i in range(len(tok)) if "\n" in tok.decode([i])]
    correct = 0
    with torch.inference_mode():
        for prompt, problem in zip(prompts, problems):
            ids = tok(prompt, return_tensors="pt")
            out = model.generate(**ids, max_new_tokens=need, do_sample=False, pad_token_id=tok.pad_token_id,
                                 eos_token_id=[tok.eos_token_id, *newline])
            text = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
            correct += is_correct(text, problem, cot)
    print(f"accuracy {correct / len(problems):.4f} {len(problems)} {time.perf_counter() - t0:.2f}")


if __name__ == "__main__":
    main()
