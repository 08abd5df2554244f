"""A checkpoint the disk cannot take: its partial temp file is removed, the old checkpoint stays,
and the error names the file (what the trainer records as the run's error)."""
from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest
import torch

from grokconsole.runs.errors import DiskFull
from grokconsole.train import checkpoint


def _disk_fills_after(monkeypatch: pytest.MonkeyPatch, limit: int, code: int = errno.ENOSPC) -> None:
    """Files the checkpoint module opens take ``limit`` bytes, then the device refuses."""

    class Full(io.FileIO):
        def write(self, data: Any) -> int:
            room = limit - self.tell()
            if len(data) > room:
                super().write(bytes(data)[:max(0, room)])
                raise OSError(code, os.strerror(code))
            return super().write(data)

    monkeypatch.setattr(checkpoint, "open", lambda path, mode="r": Full(path, mode.replace("b", "")), raising=False)


@pytest.mark.parametrize("code, reason", [(errno.ENOSPC, "no space left on device"), (errno.EIO, "input/output error")])
def test_save_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str) -> None:
    latest = tmp_path / "latest.pt"
    checkpoint.save(latest, {"step": 1, "w": torch.zeros(4)})
    _disk_fills_after(monkeypatch, 2000, code)
    with pytest.raises(DiskFull) as info:
        checkpoint.save(latest, {"step": 2, "w": torch.zeros(100_000)})
    assert str(info.value) == f"{reason} while writing {latest}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.pt"]  # no .latest.pt.tmp holding the space
    assert checkpoint.load(latest)["step"] == 1


def test_save_with_room_writes_the_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _disk_fills_after(monkeypatch, 10**9)
    checkpoint.save(tmp_path / "step_5.pt", {"step": 5, "w": torch.ones(3)})
    assert checkpoint.load(tmp_path / "step_5.pt")["w"].sum().item() == 3.0
