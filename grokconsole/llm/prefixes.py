"""Which prompts of a batch share a prefix, so its keys and values are computed once (pure Python).

k-shot prompts repeat their demonstrations: a query's 16-shot prompt starts with its 8-shot
prompt's demonstrations, and queries shown the same demonstrations share them all. Prefilling
those tokens once per group instead of once per prompt is most of the work saved on long
prompts. The plan works on token ids, not text, so it is exact for any tokenizer: two prompts
share exactly the tokens they have in common at the start.

Sorted lexicographically, prompts with a long common start are neighbours; a run of neighbours
whose common starts reach ``min_shared`` tokens (or that are the same prompt: several samples of
it) is a cluster. Its longest prompt is the *root*:
every member takes its keys and values for the tokens it shares with the root (always leaving at
least its last token to compute, whose logits start the completion).
"""
from __future__ import annotations

from dataclasses import dataclass

MIN_SHARED = 16  # fewer common tokens are not worth a separate prefill


@dataclass(frozen=True)
class PrefixPlan:
    """Per prompt: the root whose prefix it reuses (-1: none) and how many of its tokens it takes."""

    root: list[int]
    shared: list[int]

    def clusters(self) -> dict[int, list[int]]:
        """Members of each root (the root included), in prompt order."""
        out: dict[int, list[int]] = {}
        for i, r in enumerate(self.root):
            if r >= 0:
                out.setdefault(r, []).append(i)
        return out


def common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def plan_prefixes(rows: list[list[int]], min_shared: int = MIN_SHARED) -> PrefixPlan:
    """Cluster ``rows`` (token ids) by common prefixes of at least ``min_shared`` tokens."""
    root = [-1] * len(rows)
    shared = [0] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    start = 0
    for pos in range(1, len(order) + 1):
        if pos < len(order):
            a, b = rows[order[pos - 1]], rows[order[pos]]
            if common_prefix(a, b) >= min_shared or (a == b and len(a) > 1):  # copies: any length
                continue
        members = order[start:pos]
        start = pos
        if len(members) < 2:
            continue
        top = max(members, key=lambda i: (len(rows[i]), -i))
        for i in members:
            n = min(common_prefix(rows[i], rows[top]), len(rows[i]) - 1)
            if n >= min_shared or (rows[i] == rows[top] and n > 0):
                root[i], shared[i] = top, n
    return PrefixPlan(root, shared)
