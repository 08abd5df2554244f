"""Evaluating saved checkpoints (``grok eval``): data adapters, suites, interventions, the job runner.

``data`` turns a task into labelled evaluation splits, ``suites`` holds the per-task suites
(a registry keyed by task name), ``interventions`` the pure-torch M4/M5 math, and ``runner``
the evaluation process that ``grok eval`` starts detached.
"""
from __future__ import annotations
