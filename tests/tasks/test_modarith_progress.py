"""Nanda et al.'s progress measures on constructed embeddings and logits whose answer is known."""
from __future__ import annotations

import math

import pytest
import torch

from grokconsole.runs.errors import GrokError
from grokconsole.tasks.api import make_task
from grokconsole.tasks.config import resolve_config
from grokconsole.tasks.modarith.progress import frequency_norms, gini, key_frequencies, progress_measures

P = 13


def _fourier_embedding(freqs: list[int], d: int = 8) -> torch.Tensor:
    t = torch.arange(P, dtype=torch.float32)[:, None]
    cols = [torch.cos(2 * math.pi * w * t / P) for w in freqs] + [torch.sin(2 * math.pi * w * t / P) for w in freqs]
    emb = torch.cat(cols, dim=1)
    return torch.nn.functional.pad(emb, (0, d - emb.shape[1]))


def _addition_logits(freqs: list[int], scale: float = 4.0) -> torch.Tensor:
    """Logits of the Fourier algorithm for (a + b) mod p: Σ_w cos(w(a + b − c))."""
    a = torch.arange(P)[:, None, None]
    b = torch.arange(P)[None, :, None]
    c = torch.arange(P)[None, None, :]
    return scale * sum(torch.cos(2 * math.pi * w * (a + b - c) / P) for w in freqs).float()


def test_gini_spans_equal_to_concentrated() -> None:
    assert gini(torch.ones(6)) == 0.0
    assert math.isclose(gini(torch.tensor([0.0, 0.0, 0.0, 5.0])), 0.75, abs_tol=1e-6)
    assert gini(torch.zeros(3)) == 0.0


def test_key_frequencies_are_the_embeddings_own() -> None:
    norms = frequency_norms(_fourier_embedding([2, 5]))
    assert key_frequencies(norms, 2) == [2, 5]
    assert gini(norms[1:]) > 0.6
    dense = frequency_norms(torch.randn(P, 64, generator=torch.Generator().manual_seed(0)))
    assert gini(dense[1:]) < 0.3


def test_restricted_keeps_and_excluded_removes_the_algorithm() -> None:
    freqs = [2, 5]
    logits = _addition_logits(freqs)
    a, b = torch.meshgrid(torch.arange(P), torch.arange(P), indexing="ij")
    labels = ((a + b) % P).flatten()
    cells = torch.arange(P * P)
    train = cells[: P * P // 2]
    full_loss = float(torch.nn.functional.cross_entropy(logits.reshape(P * P, P), labels))
    out = progress_measures(_fourier_embedding(freqs), logits, labels, cells, train, k=2)
    assert math.isclose(out["restricted_loss"], full_loss, rel_tol=1e-4)
    assert out["excluded_loss"] > full_loss + 1.0  # without its frequencies the answer is gone
    assert math.isclose(out["excluded_loss"], math.log(P), rel_tol=1e-3)  # uniform logits
    wrong = progress_measures(_fourier_embedding([1, 3]), logits, labels, cells, train, k=2)
    assert wrong["restricted_loss"] > full_loss + 1.0  # other frequencies do not carry the answer


@pytest.mark.parametrize("sets", [
    ["model=mlp", "op=add"],
    ["model=transformer", "op=sub", "d_model=16", "n_heads=2", "n_layers=1", "d_mlp=32"],
    ["model=mlp", "op=div", "train_eval=running"],  # b = 0 cells and the train split forwarded apart
])
def test_every_evaluation_logs_the_progress_measures(sets: list[str]) -> None:
    torch.manual_seed(0)
    config = resolve_config("modarith", "grokking", sets=["p=11", "n_train=60", "d_embed=8", "d_hidden=16", *sets])
    task = make_task(config, torch.device("cpu"))
    model = task.build_model()
    if "train_eval=running" in sets:  # a running average needs a trained batch first
        batch = next(iter(task.train_batches(torch.Generator().manual_seed(0))))
        task.training_loss(model, batch, 0)
    row = task.evaluate(model)
    for key in ("fourier_gini", "restricted_loss", "excluded_loss"):
        assert math.isfinite(row[key]), key
    assert 0.0 <= row["fourier_gini"] <= 1.0
    off = make_task({**config, "progress_measures": False}, torch.device("cpu")).evaluate(model)
    assert "fourier_gini" not in off and off["val_acc"] == row["val_acc"]


def test_key_frequency_count_is_bounded_by_p() -> None:
    with pytest.raises(GrokError, match="progress_key_freqs"):
        resolve_config("modarith", "grokking", sets=["p=11", "n_train=60", "progress_key_freqs=6"])
