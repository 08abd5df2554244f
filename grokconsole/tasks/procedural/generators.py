"""Problem generators: deterministic from a seed string, each problem a :class:`Record`.

* ``arithmetic``: a random binary expression tree with ``difficulty`` operators over ``+ - *`` and
  one-digit operands (0-9), printed in infix with only the parentheses the precedence needs
  (``*`` before ``+``/``-``, left-associative), e.g. ``(3+4)*2-5``.
* ``rpn``: the same kind of tree printed in reverse Polish notation, tokens separated by single
  spaces, e.g. ``3 4 + 2 * 5 -``.
* ``parentheses``: ``2 × difficulty`` brackets over ``()[]{}``; half of the problems (in
  expectation) are balanced, the others a balanced string with one bracket changed or two
  swapped, so that they look alike.

The prompt a model sees is the expression followed by ``=``; the answer is computed from the
expression by :mod:`solvers` (its own parser, not the tree). Pure Python.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Sequence

from grokconsole.tasks.procedural.solvers import OPERATORS, PROBLEM_TYPES, is_balanced, solve

PROMPT_END = "="
OPEN, CLOSE = "([{", ")]}"
MIN_DIFFICULTY, MAX_DIFFICULTY = 1, 12
_PRECEDENCE = {"+": 1, "-": 1, "*": 2}
# Characters of every prompt and answer (plus newline, the end of a completion).
ALPHABET = "0123456789" + OPERATORS + "()[]{} " + PROMPT_END + "yesno"


@dataclass(frozen=True)
class Record:
    """One problem as a line of ``data/*.jsonl``: what the model is asked and must answer."""

    prompt: str
    answer: str
    type: str
    difficulty: int
    expression: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def random_tree(rng: random.Random, n_ops: int) -> object:
    """An expression tree (an int leaf, or ``(operator, left, right)``) with ``n_ops`` operators,
    its shape and labels drawn from ``rng``."""
    if n_ops == 0:
        return rng.randint(0, 9)
    left = rng.randint(0, n_ops - 1)
    op = rng.choice(OPERATORS)
    return (op, random_tree(rng, left), random_tree(rng, n_ops - 1 - left))


def _precedence(tree: object) -> int:
    return 3 if isinstance(tree, int) else _PRECEDENCE[tree[0]]  # type: ignore[index]


def to_infix(tree: object) -> str:
    """Infix text with the parentheses precedence and left-associativity need, and no others."""
    if isinstance(tree, int):
        return str(tree)
    op, left, right = tree  # type: ignore[misc]
    p = _PRECEDENCE[op]
    a, b = to_infix(left), to_infix(right)
    if _precedence(left) < p:
        a = f"({a})"
    if _precedence(right) < p or (_precedence(right) == p and op == "-"):
        b = f"({b})"
    return f"{a}{op}{b}"


def to_rpn(tree: object) -> str:
    """Postfix text, tokens separated by single spaces."""
    if isinstance(tree, int):
        return str(tree)
    op, left, right = tree  # type: ignore[misc]
    return f"{to_rpn(left)} {to_rpn(right)} {op}"


def tree_value(tree: object) -> int:
    """The tree's value, computed on the tree (tests compare it with the text parsers)."""
    if isinstance(tree, int):
        return tree
    op, left, right = tree  # type: ignore[misc]
    a, b = tree_value(left), tree_value(right)
    return a + b if op == "+" else a - b if op == "-" else a * b


def balanced_brackets(rng: random.Random, pairs: int) -> str:
    """A uniformly shaped-at-random balanced string of ``pairs`` bracket pairs."""
    if pairs == 0:
        return ""
    inner = rng.randint(0, pairs - 1)
    kind = rng.randrange(3)
    return OPEN[kind] + balanced_brackets(rng, inner) + CLOSE[kind] + balanced_brackets(rng, pairs - 1 - inner)


def unbalanced_brackets(rng: random.Random, pairs: int) -> str:
    """A balanced string with one bracket replaced or two swapped, until it is unbalanced."""
    while True:
        chars = list(balanced_brackets(rng, pairs))
        if rng.random() < 0.5:
            i = rng.randrange(len(chars))
            chars[i] = rng.choice([c for c in OPEN + CLOSE if c != chars[i]])
        else:
            i, j = rng.sample(range(len(chars)), 2)
            chars[i], chars[j] = chars[j], chars[i]
        text = "".join(chars)
        if not is_balanced(text):
            return text


def make_expression(rng: random.Random, problem_type: str, difficulty: int) -> str:
    if problem_type == "arithmetic":
        return to_infix(random_tree(rng, difficulty))
    if problem_type == "rpn":
        return to_rpn(random_tree(rng, difficulty))
    if problem_type == "parentheses":
        return balanced_brackets(rng, difficulty) if rng.random() < 0.5 else unbalanced_brackets(rng, difficulty)
    raise ValueError(f"unknown problem type {problem_type!r}; known: {', '.join(PROBLEM_TYPES)}")


def make_record(problem_type: str, difficulty: int, expression: str) -> Record:
    return Record(prompt=expression + PROMPT_END, answer=solve(problem_type, expression), type=problem_type,
                  difficulty=difficulty, expression=expression)


def make_problem(rng: random.Random, types: Sequence[str], difficulty_range: tuple[int, int]) -> Record:
    """One problem: a type and a difficulty drawn uniformly, then the expression."""
    problem_type = rng.choice(list(types))
    difficulty = rng.randint(*difficulty_range)
    return make_record(problem_type, difficulty, make_expression(rng, problem_type, difficulty))


class TooFewProblems(ValueError):
    """The problem space holds fewer distinct prompts than asked for."""


def make_split(n: int, types: Sequence[str], difficulty_range: tuple[int, int], seed: str,
               exclude: set[str] | frozenset[str] = frozenset()) -> list[Record]:
    """``n`` problems with distinct prompts, none in ``exclude``, deterministic from ``seed``.

    Small spaces run out (one bracket pair gives 30 distinct prompts: 3 balanced, 27 corrupted):
    after ``100 n + 1000`` draws without enough new prompts, :class:`TooFewProblems` says how many
    were found.
    """
    rng = random.Random(f"procedural/{seed}")
    seen: set[str] = set(exclude)
    out: list[Record] = []
    budget = 100 * n + 1000
    while len(out) < n and budget > 0:
        budget -= 1
        rec = make_problem(rng, types, difficulty_range)
        if rec.prompt not in seen:
            seen.add(rec.prompt)
            out.append(rec)
    if len(out) < n:
        raise TooFewProblems(f"only {len(out)} distinct new problems of types {','.join(types)} with difficulty "
                             f"{difficulty_range[0]}-{difficulty_range[1]} found for {n} asked")
    return out
