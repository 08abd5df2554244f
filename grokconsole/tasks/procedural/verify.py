"""Verification: a completion is right when its answer equals the ground truth exactly.

The ground truth is the record's ``answer``, which :mod:`solvers` computed from the expression;
no model is involved. A completion's answer is its first line, stripped of surrounding spaces
(generation stops at a newline, so this is the whole completion in practice).
"""
from __future__ import annotations


def extract_answer(completion: str) -> str:
    """The answer a completion gives: its first line, stripped."""
    return completion.split("\n", 1)[0].strip()


def verify(completion: str, answer: str) -> bool:
    """Exact match of the completion's answer with the ground-truth ``answer``."""
    return extract_answer(completion) == answer
