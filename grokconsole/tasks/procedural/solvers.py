"""Ground truth of a procedural problem, computed from its machine-readable ``expression`` alone.

These evaluators share no code with the generators that build the expressions (the generators
build a tree and print it; these parse the text), so a generator bug shows up as a disagreement
in the tests instead of agreeing with itself. Pure Python.

* ``arithmetic``: integers, ``+ - *`` and parentheses, ``*`` binding tighter, left-associative;
  spaces allowed. Parsed by recursive descent.
* ``rpn``: the same in reverse Polish notation, tokens separated by single spaces; a stack.
* ``parentheses``: a string over ``()[]{}``; balanced when every bracket closes the innermost open
  one of its kind and none stays open.
"""
from __future__ import annotations

PROBLEM_TYPES = ("arithmetic", "rpn", "parentheses")
OPERATORS = "+-*"
BRACKETS = {")": "(", "]": "[", "}": "{"}
YES, NO = "yes", "no"


class ExpressionError(ValueError):
    """The text is not a well-formed expression of its type."""


def _apply(op: str, a: int, b: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    raise ExpressionError(f"unknown operator {op!r}")


class _Infix:
    """expr := term (('+'|'-') term)* ; term := atom ('*' atom)* ; atom := digits | '(' expr ')'."""

    def __init__(self, text: str) -> None:
        self.text = text.replace(" ", "")
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> int:
        value = self.expr()
        if self.pos != len(self.text):
            raise ExpressionError(f"unexpected {self.peek()!r} at {self.pos} in {self.text!r}")
        return value

    def expr(self) -> int:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.peek()
            self.pos += 1
            value = _apply(op, value, self.term())
        return value

    def term(self) -> int:
        value = self.atom()
        while self.peek() == "*":
            self.pos += 1
            value = value * self.atom()
        return value

    def atom(self) -> int:
        ch = self.peek()
        if ch == "(":
            self.pos += 1
            value = self.expr()
            if self.peek() != ")":
                raise ExpressionError(f"missing ')' in {self.text!r}")
            self.pos += 1
            return value
        start = self.pos
        while self.peek().isdigit():
            self.pos += 1
        if start == self.pos:
            raise ExpressionError(f"expected a number at {start} in {self.text!r}")
        return int(self.text[start:self.pos])


def eval_infix(text: str) -> int:
    """The value of an infix expression over non-negative integers, ``+ - *`` and parentheses."""
    return _Infix(text).parse()


def eval_rpn(text: str) -> int:
    """The value of a reverse-Polish expression (tokens separated by single spaces)."""
    stack: list[int] = []
    for token in text.split(" "):
        if token.isdigit():
            stack.append(int(token))
        elif token in OPERATORS and len(token) == 1:
            if len(stack) < 2:
                raise ExpressionError(f"operator {token!r} without two operands in {text!r}")
            b, a = stack.pop(), stack.pop()
            stack.append(_apply(token, a, b))
        else:
            raise ExpressionError(f"bad token {token!r} in {text!r}")
    if len(stack) != 1:
        raise ExpressionError(f"{len(stack)} values left on the stack in {text!r}")
    return stack[0]


def is_balanced(text: str) -> bool:
    """True when every bracket of ``()[]{}`` closes the innermost open one of its kind."""
    stack: list[str] = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in BRACKETS:
            if not stack or stack.pop() != BRACKETS[ch]:
                return False
        else:
            raise ExpressionError(f"{ch!r} is not a bracket in {text!r}")
    return not stack


def solve(problem_type: str, expression: str) -> str:
    """The exact answer text of a problem: a decimal integer, or ``yes``/``no``."""
    if problem_type == "arithmetic":
        return str(eval_infix(expression))
    if problem_type == "rpn":
        return str(eval_rpn(expression))
    if problem_type == "parentheses":
        return YES if is_balanced(expression) else NO
    raise ExpressionError(f"unknown problem type {problem_type!r}; known: {', '.join(PROBLEM_TYPES)}")
