"""What a generation suite (a language-model task's ``grok eval`` suite) is asked: its options.

:class:`GenerationOptions` are the knobs (``grok eval --problems N --shots 0,1,2 --icl-demos both``),
parsed and checked here without torch so the CLI and sweep files validate them at once; how they
travel to the eval job is :class:`grokconsole.evals.request.EvalRequest`'s business. What the
suite receives with them, the loaded model, is :class:`grokconsole.tasks.suites.GenerationContext`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grokconsole.llm.modelinfo import model_info
from grokconsole.llm.paths import resolve_model_path
from grokconsole.runs.errors import GrokError
from grokconsole.tasks.spec import TaskSpec

DEFAULT_SHOTS = (0, 1, 2, 4, 8, 16)
DEFAULT_PROBLEMS = 250
DEFAULT_BATCH = 256
# Queries per set of demonstrations in the icl suite: a group's k-shot prompts share their start,
# which is computed once (1: every query gets its own demonstrations).
DEFAULT_ICL_GROUP = 25
ICL_DEMOS = ("plain", "cot", "both")


@dataclass(frozen=True)
class GenerationOptions:
    """The knobs of the generation suites: ``grok eval --problems N --shots 0,1,2 --icl-cot``."""

    n_problems: int = DEFAULT_PROBLEMS
    shots: tuple[int, ...] = DEFAULT_SHOTS
    icl_demos: str = "plain"  # plain | cot | both: demonstrations without / with the CoT trace
    batch_size: int = DEFAULT_BATCH
    icl_group: int = DEFAULT_ICL_GROUP  # queries sharing one set of demonstrations

    @property
    def demo_kinds(self) -> tuple[bool, ...]:
        """The ``cot`` values of the demonstrations to evaluate."""
        return {"plain": (False,), "cot": (True,), "both": (False, True)}[self.icl_demos]


def parse_shots(text: str | None) -> tuple[int, ...]:
    """``--shots 0,1,2,4,8,16``: distinct non-negative integers, sorted."""
    if not text:
        return DEFAULT_SHOTS
    try:
        values = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise GrokError(f"bad --shots {text!r}: use comma-separated numbers of demonstrations like 0,1,2,4,8") from None
    if not values or values[0] < 0:
        raise GrokError(f"bad --shots {text!r}: use non-negative integers like 0,1,2,4,8")
    return tuple(values)


def parse_icl_demos(text: str, cot: bool) -> str:
    """``--icl-demos plain|cot|both``; ``--icl-cot`` is ``--icl-demos cot``."""
    value = (text or "plain").strip().lower()
    if value not in ICL_DEMOS:
        raise GrokError(f"bad --icl-demos {text!r}: choose {', '.join(ICL_DEMOS)}")
    if cot and value == "plain":
        return "cot"
    return value


def check_problems(n: int) -> int:
    if n < 1:
        raise GrokError(f"--problems must be at least 1, got {n}")
    return n


def check_icl_group(n: int) -> int:
    if n < 1:
        raise GrokError(f"--icl-group must be at least 1 (1: every query its own demonstrations), got {n}")
    return n


def check_shots(shots: tuple[int, ...], context_length: int | None, *, demo_tokens: int = 1,
                query_tokens: int = 0) -> tuple[int, ...]:
    """``shots`` when the largest k-shot prompt (k demonstrations of ``demo_tokens`` each, then a
    query and its completion of ``query_tokens``) fits ``context_length``; GrokError naming the
    largest k that fits otherwise (a longer prompt would only be cut or fill memory)."""
    if context_length is None or not shots:
        return shots
    if query_tokens > context_length:
        raise GrokError(f"--shots: the query alone ({query_tokens} tokens) does not fit the model's "
                        f"{context_length}-token context")
    limit = (context_length - query_tokens) // max(1, demo_tokens)
    if max(shots) > limit:
        raise GrokError(f"--shots {max(shots)}: at most {limit} demonstrations of {demo_tokens} tokens fit the "
                        f"model's {context_length}-token context")
    return shots


def check_icl_fits(spec: TaskSpec, config: dict[str, Any], options: GenerationOptions,
                   model_path: str | None = None) -> None:
    """The eval request's check that every k-shot prompt fits the model (``model_path``: the
    model evaluated, default the run's ``model_path``); no-op for a task without ``icl_tokens``."""
    if spec.icl_tokens is None:
        return
    folder = resolve_model_path(model_path if model_path is not None else config.get("model_path"))
    context = model_info(folder).context_length
    for cot in options.demo_kinds:
        demo, query = spec.icl_tokens(config, cot)
        check_shots(options.shots, context, demo_tokens=demo, query_tokens=query)
