"""Training tests run torch on one thread: on a busy 2-core box two OpenMP threads are many times slower."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread(one_torch_thread: None) -> None:
    """Every test here runs torch on one thread (the shared fixture in tests/conftest.py)."""
