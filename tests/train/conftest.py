"""Training tests run torch on one thread: on a busy 2-core box two OpenMP threads are many times slower."""
from __future__ import annotations

from typing import Iterator

import pytest


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
