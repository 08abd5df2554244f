"""``grok eval`` suites of ``camelyon17``: accuracy and confidence per split × environment."""
from __future__ import annotations

from grokconsole.tasks.suites import register_env_suites

register_env_suites("camelyon17")
