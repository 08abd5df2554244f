"""Evaluating saved checkpoints (``grok eval``): the request, the job, its one loop and its evaluators.

``request`` parses, checks and encodes what was asked and ``base_folder`` where an untuned model's
results go (both torch-free); ``job`` is the detached
process; ``runner`` the loop over checkpoints that every task shares; ``checkpoints`` what the
loop walks and asks; ``split_evaluator`` and ``generation_evaluator`` the two kinds of work (suites
over labelled splits with the M4/M5 ``interventions``; generation suites of a language model). The
suites themselves belong to the tasks (:mod:`grokconsole.tasks.suites`).
"""
from __future__ import annotations
