"""``compile=true``: the training forward through ``torch.compile`` (inductor), eager if that fails.

Inductor fuses the small element-wise kernels (GELU, LayerNorm, attention products, residual
adds) that dominate a small model's step on CPU. The first run on a machine pays the compilation
(~20 s on a 2-core CPU); later runs load the kernels from inductor's on-disk cache (~2 s). The
numbers equal eager ones to float rounding (losses within ~1e-6 over hundreds of steps).

Compilation happens at the first call, so that is where a failure shows (no C++ compiler, an
unsupported op): the run then goes on in eager mode and says so once, losing nothing.

A model with ``features(x)`` and ``head(features)`` (the convention of this package's models) is
compiled as one graph returning both, so evaluation can run through the same graph
(:meth:`CompiledForward.features_and_logits`): a validation takes 30–50 % less time than with
the eager forward, and a second, no-grad graph would cost a second compilation.
"""
from __future__ import annotations

import logging
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import torch
from torch import nn


class CompiledForward:
    """Calls ``torch.compile(model)`` for inputs shaped as the first one, ``model`` for others;
    on the first failure, ``model`` itself from then on.

    One static graph: a minibatch epoch's shorter last batch runs eagerly instead of costing
    a second compilation (~0.5 s from the cache, 10–15 s without). ``on_fallback(message)`` is
    told once why compilation was given up.
    """

    def __init__(self, model: nn.Module, on_fallback: Callable[[str], None] | None = None,
                 deterministic: bool = True) -> None:
        self.model = model
        if deterministic:
            # Same seed, same history (on CPU): inductor's CPU scatter kernels (the backward of
            # the gathers) add with parallel atomics, whose order varies from run to run. With
            # deterministic algorithms on, it lowers them to aten's ordered kernels (checked at
            # compile time, also when the backward graph compiles at the first backward).
            # Uninitialised memory stays unfilled: that fill is a cost with no use here.
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
        # Inductor imports torch's C++-extension helper, which warns on every CPU-only machine
        # with a CUDA build of torch ("No CUDA runtime is found"): noise in every run's log.
        logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
        # pair: the graph returns (features, logits); the features cost nothing extra (the head's
        # backward keeps them anyway) and make the graph usable for evaluation.
        self.pair = callable(getattr(model, "features", None)) and isinstance(getattr(model, "head", None), nn.Module)
        self.compiled: Any = torch.compile(self._features_and_logits if self.pair else model, dynamic=False)
        self.on_fallback = on_fallback
        self._shape: tuple[int, ...] | None = None

    def _features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.model.features(x)  # type: ignore[operator]
        return feats, self.model.head(feats)  # type: ignore[operator]

    def __call__(self, x: torch.Tensor) -> Any:
        if self._shape is None:
            self._shape = tuple(x.shape)
        out = self._run_compiled(x)
        if out is None:
            return self.model(x)
        return out[1] if self.pair else out

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features and logits of ``x`` for evaluation, detached: through the training graph when
        ``x`` has its shape, eagerly otherwise (also before the first training call).

        The graph is the one training traced, with gradients on (under ``no_grad`` torch.compile
        would trace and compile a second graph); its autograd record is dropped with the outputs.
        So it only serves models whose forward does not depend on train/eval mode (no dropout or
        batch norm), which is what a task promises when it asks for it (``Task.use_compiled``).
        """
        if self.pair and self._shape is not None:
            with torch.enable_grad():
                out = self._run_compiled(x)
            if out is not None:
                return out[0].detach(), out[1].detach()
        with torch.no_grad():
            return self._features_and_logits(x)

    def _run_compiled(self, x: torch.Tensor) -> Any:
        """The compiled graph's output for ``x``, or None (another shape, or compilation given up)."""
        if self.compiled is None or tuple(x.shape) != self._shape:
            return None
        try:
            return self.compiled(x)
        except Exception as exc:  # compilation failed: same function, eager
            self.compiled = None
            first_line = (str(exc).strip().splitlines() or [""])[0]
            message = f"torch.compile failed, training goes on without it: {type(exc).__name__}: {first_line}"
            print(message, file=sys.stderr, flush=True)
            if self.on_fallback:
                self.on_fallback(message)
            return None


@contextmanager
def global_flags_restored() -> Iterator[None]:
    """Puts back the process-wide determinism flags ``CompiledForward`` sets (for in-process callers)."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory  # type: ignore[attr-defined]
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.utils.deterministic.fill_uninitialized_memory = fill  # type: ignore[attr-defined]
