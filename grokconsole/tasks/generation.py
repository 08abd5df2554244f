"""What a generation suite (a language-model task's ``grok eval`` suite) is asked: its options.

:class:`GenerationOptions` are the knobs (``grok eval --problems N --shots 0,1,2 --icl-demos both``),
parsed and checked here without torch so the CLI and sweep files validate them at once. What the
suite receives with them, the loaded model, is :class:`grokconsole.tasks.suites.GenerationContext`.
"""
from __future__ import annotations

from dataclasses import dataclass

from grokconsole.runs.errors import GrokError

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

    def argv(self) -> list[str]:
        """The eval runner's options for these knobs (parsed back by the runner)."""
        return ["--problems", str(self.n_problems), "--shots", ",".join(str(k) for k in self.shots),
                "--gen-batch", str(self.batch_size), "--icl-demos", self.icl_demos, "--icl-group", str(self.icl_group)]


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
