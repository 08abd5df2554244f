"""Procedural problems: generators, ground truth and verification against hand-computed cases, and
infix ⇄ RPN equivalence as a property (hypothesis)."""
from __future__ import annotations

import ast
import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grokconsole.tasks.procedural.generators import (TooFewProblems, make_record, make_split, random_tree, to_infix,
                                                     to_rpn, tree_value)
from grokconsole.tasks.procedural.solvers import ExpressionError, eval_infix, eval_rpn, is_balanced, solve
from grokconsole.tasks.procedural.verify import extract_answer, verify

ALL = ("arithmetic", "rpn", "parentheses")


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("3+4", 7), ("3-4", -1), ("2*3+4*5", 26), ("(3+4)*2-5", 9), ("2-3-4", -5), ("2-(3-4)", 3),
    ("2*(3-4)*5", -10), ("((7))", 7), ("9*9*9", 729), ("0*(8-9)", 0), ("1 + 2 * 3", 7),
])
def test_infix_by_hand(text: str, value: int) -> None:
    assert eval_infix(text) == value


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("3 4 +", 7), ("3 4 -", -1), ("3 4 + 2 * 5 -", 9), ("2 3 - 4 -", -5), ("2 3 4 - -", 3),
    ("2 3 4 - * 5 *", -10), ("9 9 * 9 *", 729),
])
def test_rpn_by_hand(text: str, value: int) -> None:
    assert eval_rpn(text) == value


@pytest.mark.parametrize("text", ["3 +", "3 4", "3  4 +", "3 4 /", ""])
def test_rpn_rejects_malformed(text: str) -> None:
    with pytest.raises(ExpressionError):
        eval_rpn(text)


@pytest.mark.parametrize("text", ["3+", "(3+4", "3+4)", "3/4", ""])
def test_infix_rejects_malformed(text: str) -> None:
    with pytest.raises(ExpressionError):
        eval_infix(text)


@pytest.mark.parametrize("text, balanced", [
    ("", True), ("()", True), ("([]{})", True), ("{[()()]}", True), ("([)]", False), ("((", False),
    (")(", False), ("(]", False), ("{}}", False), ("[", False),
])
def test_brackets_by_hand(text: str, balanced: bool) -> None:
    assert is_balanced(text) is balanced
    assert solve("parentheses", text) == ("yes" if balanced else "no")


@pytest.mark.parametrize("tree, infix, rpn", [
    (("-", 2, ("-", 3, 4)), "2-(3-4)", "2 3 4 - -"),
    (("-", ("-", 2, 3), 4), "2-3-4", "2 3 - 4 -"),
    (("+", 2, ("-", 3, 4)), "2+3-4", "2 3 4 - +"),
    (("*", ("+", 3, 4), 2), "(3+4)*2", "3 4 + 2 *"),
    (("*", 2, ("*", 3, 4)), "2*3*4", "2 3 4 * *"),
    (("-", ("*", 2, 3), ("*", 4, 5)), "2*3-4*5", "2 3 * 4 5 * -"),
])
def test_printing_by_hand(tree: object, infix: str, rpn: str) -> None:
    assert to_infix(tree) == infix and to_rpn(tree) == rpn


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def python_value(text: str) -> int:
    """A third evaluator: Python's own parser (only + - * on integers)."""
    def walk(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        raise ValueError(ast.dump(node))
    return walk(ast.parse(text, mode="eval"))


def rpn_to_infix(text: str) -> str:
    """RPN back to a fully parenthesised infix string (a test-side converter)."""
    stack: list[str] = []
    for token in text.split(" "):
        if token in "+-*":
            b, a = stack.pop(), stack.pop()
            stack.append(f"({a}{token}{b})")
        else:
            stack.append(token)
    (out,) = stack
    return out


trees = st.recursive(st.integers(0, 9), lambda kids: st.tuples(st.sampled_from("+-*"), kids, kids), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_infix_and_rpn_agree(tree: object) -> None:
    infix, rpn = to_infix(tree), to_rpn(tree)
    value = tree_value(tree)
    assert eval_infix(infix) == value == eval_rpn(rpn) == python_value(infix)
    assert eval_infix(rpn_to_infix(rpn)) == value
    assert "  " not in rpn and rpn.strip() == rpn


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12))
def test_generated_records_are_right(seed: int, difficulty: int) -> None:
    import random

    rng = random.Random(seed)
    tree = random_tree(rng, difficulty)
    assert sum(to_infix(tree).count(op) for op in "+-*") == difficulty
    for kind, text in (("arithmetic", to_infix(tree)), ("rpn", to_rpn(tree))):
        rec = make_record(kind, difficulty, text)
        assert rec.answer == str(tree_value(tree)) and rec.prompt == text + "="


def test_splits_are_deterministic_distinct_and_in_range() -> None:
    a = make_split(300, ALL, (3, 7), "train/0")
    assert a == make_split(300, ALL, (3, 7), "train/0")
    assert a != make_split(300, ALL, (3, 7), "train/1")
    assert len({r.prompt for r in a}) == 300
    assert {r.type for r in a} == set(ALL) and all(3 <= r.difficulty <= 7 for r in a)
    for r in a:
        assert r.answer == solve(r.type, r.expression) and r.prompt == r.expression + "="
        if r.type == "parentheses":
            assert len(r.expression) == 2 * r.difficulty
        if r.type == "rpn":
            assert sum(t in "+-*" for t in r.expression.split(" ")) == r.difficulty
    parens = [r for r in a if r.type == "parentheses"]
    assert 0.3 < sum(r.answer == "yes" for r in parens) / len(parens) < 0.7
    held = make_split(100, ALL, (3, 7), "val/0", exclude={r.prompt for r in a})
    assert not {r.prompt for r in held} & {r.prompt for r in a}


def test_a_small_space_runs_out() -> None:
    with pytest.raises(TooFewProblems, match=r"only 30 distinct"):
        make_split(100, ("parentheses",), (1, 1), "train/0")


@pytest.mark.parametrize("completion, answer, ok", [
    ("7", "7", True), (" 7 ", "7", True), ("7\n8", "7", True), ("07", "7", False), ("-4", "-4", True),
    ("4", "-4", False), ("yes", "yes", True), ("yesno", "yes", False), ("", "no", False),
])
def test_verify_is_exact_match(completion: str, answer: str, ok: bool) -> None:
    assert verify(completion, answer) is ok
    assert extract_answer("  12\nrest") == "12"
