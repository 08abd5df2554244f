"""Base-N addition problems as text: prompts, chain-of-thought traces, answers, k-shot prompts.

Pure Python (no torch). The built-in tiny model is pre-trained in these formats and task
``baseadd`` fine-tunes and scores in them, so they live here, beside the model's builder; the
task re-exports them as ``grokconsole.tasks.baseadd.problems``.

Formats (digits ``0-9a-f``, most significant first, no base marker in the prompt: the base is
hidden and must be learned by fine-tuning or read from in-context examples):

* plain prompt ``35+27=``, completion ``64`` (base 8);
* chain-of-thought prompt ``35+27:``, completion ``7:5+7+0=14,3+2=14:3+2+1=06,+=064|64`` — the
  base's largest digit, then one step per column from the least significant (``a+b+carry=``, the
  column sum as two digits, and the state left: :func:`cot_trace`), then ``|`` and the answer.

The two prompts end differently (``=`` vs ``:``) so that a model trained on one format never answers
a prompt of the other in the wrong one. A k-shot prompt is k solved examples, one per line, then
the query; an example line is prompt + completion.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass

DIGITS = "0123456789abcdef"
MIN_BASE, MAX_BASE = 2, len(DIGITS)
PLAIN_MARK, COT_MARK, ANSWER_MARK = "=", ":", "|"
SEPARATOR = "\n"  # between the examples of a k-shot prompt
# Every character the formats use: the built-in tokenizer's vocabulary.
ALPHABET = DIGITS + "+=:,|" + SEPARATOR


def to_base(n: int, base: int) -> str:
    """``n`` ≥ 0 written in ``base`` (digits 0-9a-f)."""
    if not MIN_BASE <= base <= MAX_BASE:
        raise ValueError(f"base must be in {MIN_BASE}..{MAX_BASE}, got {base}")
    if n < 0:
        raise ValueError(f"only non-negative numbers, got {n}")
    out = []
    while True:
        n, d = divmod(n, base)
        out.append(DIGITS[d])
        if n == 0:
            return "".join(reversed(out))


def from_base(text: str, base: int) -> int:
    """Inverse of :func:`to_base`; ValueError on a digit the base does not have."""
    value = 0
    for ch in text:
        d = DIGITS.find(ch)
        if d < 0 or d >= base:
            raise ValueError(f"{ch!r} is not a base-{base} digit")
        value = value * base + d
    if not text:
        raise ValueError("empty number")
    return value


def cot_trace(x: int, y: int, base: int) -> str:
    """The column-by-column carry trace of x + y, least significant column first (no answer).

    It opens with the base's largest digit (``7`` in base 8): the prompt does not name the base,
    so the trace's first step is to settle it, and a fine-tuning that teaches a new base has one
    token to change before a procedure that does not depend on the base. Each step adds the last
    digits of what is left of the operands and the carry, then restates the rest:
    ``a+b+c=qd,X+Y=qdA`` (``:`` before the next step) — the operands without their last digit,
    ``=``, the carry ``q`` and the answer digits found so far (``d``, then the earlier ones). A
    step thus reads its digits next to ``+`` and ``=`` in the state just before it, however long
    the numbers are, and the trace ends when the operands are used up (``+=``)."""
    xs, ys = to_base(x, base), to_base(y, base)
    n = max(len(xs), len(ys))
    xs, ys = xs.rjust(n, "0"), ys.rjust(n, "0")
    steps, carry, done = [], 0, ""
    for i in range(n - 1, -1, -1):
        total = DIGITS.index(xs[i]) + DIGITS.index(ys[i]) + carry
        q, d = DIGITS[total // base], DIGITS[total % base]
        done = d + done
        steps.append(f"{xs[i]}+{ys[i]}+{carry}={q}{d},{xs[:i]}+{ys[:i]}={q}{done}")
        carry = total // base
    return COT_MARK.join([DIGITS[base - 1], *steps])


@dataclass(frozen=True)
class Problem:
    """One sum x + y in ``base``; ``digits`` is the length of both operands."""

    x: int
    y: int
    base: int
    digits: int

    @property
    def answer(self) -> str:
        """The answer text, scored by exact match."""
        return to_base(self.x + self.y, self.base)

    def prompt(self, cot: bool) -> str:
        return f"{to_base(self.x, self.base)}+{to_base(self.y, self.base)}{COT_MARK if cot else PLAIN_MARK}"

    def completion(self, cot: bool) -> str:
        """What the model must write after the prompt (trace and answer with ``cot``)."""
        if cot:
            return f"{cot_trace(self.x, self.y, self.base)}{ANSWER_MARK}{self.answer}"
        return self.answer

    def line(self, cot: bool) -> str:
        """A solved example: prompt then completion."""
        return self.prompt(cot) + self.completion(cot)


@dataclass(frozen=True)
class Record:
    """One line of ``data/*.jsonl``: what a model is asked and must answer."""

    prompt: str
    answer: str       # the final number, scored by exact match
    completion: str   # the training target (trace + answer with cot)
    base: int
    digits: int
    cot: bool
    x: int
    y: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def record(problem: Problem, cot: bool) -> Record:
    return Record(prompt=problem.prompt(cot), answer=problem.answer, completion=problem.completion(cot),
                  base=problem.base, digits=problem.digits, cot=cot, x=problem.x, y=problem.y)


def operand_range(base: int, digits: int) -> tuple[int, int]:
    """Smallest and largest ``digits``-digit number in ``base`` (1 digit includes 0)."""
    if digits < 1:
        raise ValueError(f"digits must be ≥ 1, got {digits}")
    low = 0 if digits == 1 else base ** (digits - 1)
    return low, base**digits - 1


def n_distinct(base: int, digits: int) -> int:
    """How many distinct (x, y) problems exist."""
    low, high = operand_range(base, digits)
    return (high - low + 1) ** 2


def sample_problem(rng: random.Random, base: int, digits: int) -> Problem:
    low, high = operand_range(base, digits)
    return Problem(rng.randint(low, high), rng.randint(low, high), base, digits)


def make_problems(base: int, digits: int, n: int, seed: int,
                  exclude: frozenset[tuple[int, int]] | set[tuple[int, int]] = frozenset()) -> list[Problem]:
    """``n`` distinct problems, deterministic from ``seed``; pairs in ``exclude`` are skipped.

    When fewer than ``n`` new pairs exist, all of them are returned (in a seeded order).
    """
    rng = random.Random(f"baseadd/{base}/{digits}/{seed}")
    available = n_distinct(base, digits) - len(exclude)
    if n >= available:
        low, high = operand_range(base, digits)
        pairs = [(x, y) for x in range(low, high + 1) for y in range(low, high + 1) if (x, y) not in exclude]
        rng.shuffle(pairs)
        return [Problem(x, y, base, digits) for x, y in pairs[:n]]
    seen: set[tuple[int, int]] = set(exclude)
    out: list[Problem] = []
    while len(out) < n:
        p = sample_problem(rng, base, digits)
        if (p.x, p.y) not in seen:
            seen.add((p.x, p.y))
            out.append(p)
    return out


def kshot_prompt(query: Problem, shots: list[Problem], cot: bool) -> str:
    """``len(shots)`` solved examples, one per line, then the query's prompt."""
    return "".join(s.line(cot) + SEPARATOR for s in shots) + query.prompt(cot)


def kshot_prompts(queries: list[Problem], k: int, cot: bool, seed: int) -> list[str]:
    """A k-shot prompt per query; demonstrations drawn (seeded) from the same base and length, never
    the query itself."""
    rng = random.Random(f"baseadd/shots/{k}/{seed}")
    out = []
    for q in queries:
        shots: list[Problem] = []
        while len(shots) < k:
            s = sample_problem(rng, q.base, q.digits)
            if (s.x, s.y) != (q.x, q.y):
                shots.append(s)
        out.append(kshot_prompt(q, shots, cot))
    return out


def demonstrations(queries: list[Problem], k: int, seed: int) -> list[Problem]:
    """The first ``k`` demonstrations shown to ``queries`` (a group that shares them; one query
    alone gets its own): problems of their base and length, never one of the queries, drawn from a
    stream seeded by the group's first query. A smaller k takes a prefix of a larger k's, so the
    group's k-shot prompts all start alike and that start is computed once; each query still sees
    a uniformly drawn set of k demonstrations, as with independent draws per query."""
    first = queries[0]
    asked = {(q.x, q.y) for q in queries}
    rng = random.Random(f"baseadd/demos/{seed}/{first.base}/{first.digits}/{first.x}/{first.y}/{len(queries)}")
    shots: list[Problem] = []
    while len(shots) < k:
        s = sample_problem(rng, first.base, first.digits)
        if (s.x, s.y) not in asked:
            shots.append(s)
    return shots


def icl_prompts(queries: list[Problem], k: int, cot: bool, seed: int, group: int = 1) -> list[str]:
    """A k-shot prompt per query; each run of ``group`` consecutive queries shares its
    demonstrations (:func:`demonstrations`)."""
    out: list[str] = []
    for start in range(0, len(queries), max(1, group)):
        members = queries[start:start + max(1, group)]
        shots = demonstrations(members, k, seed)
        out += [kshot_prompt(q, shots, cot) for q in members]
    return out


def extract_answer(completion: str, cot: bool) -> str:
    """The answer a completion gives: the text after the last ``|`` with ``cot``, else the whole
    first line, stripped."""
    text = completion.split(SEPARATOR, 1)[0].strip()
    if cot:
        return text.rsplit(ANSWER_MARK, 1)[1].strip() if ANSWER_MARK in text else ""
    return text


def is_correct(completion: str, problem: Problem, cot: bool) -> bool:
    return extract_answer(completion, cot) == problem.answer
