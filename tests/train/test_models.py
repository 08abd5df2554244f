"""Model speed-ups must not change the function: factorised MLP, last-position-only and shared-prefix paths."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from grokconsole.tasks.modarith.models import DecoderTransformer, TokenMLP


def reference_decoder(m: DecoderTransformer, x: torch.Tensor, grokfast: bool) -> torch.Tensor:
    """Every position through every block with torch's own MultiheadAttention (the model's own
    modules, batch first) and a causal mask."""
    n = x.shape[1]
    h = m.tok(x) + m.pos[:n]
    mask = torch.triu(torch.full((n, n), float("-inf"), dtype=h.dtype), diagonal=1)
    for b in m.blocks:
        g = b.ln1(h)
        if grokfast:
            h = g
        h = h + b.attn(g, g, g, attn_mask=mask, need_weights=False)[0]
        h = h + b.mlp(b.ln2(h))
    return m.head(m.ln_f(h[:, -1]))


@pytest.mark.parametrize("arch", ["default", "grokfast"])
@pytest.mark.parametrize("prefix", [0, 1, 2])
@pytest.mark.parametrize("tabled", [True, False], ids=["tabled", "per-example"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_decoder_paths_compute_the_reference_function(arch: str, prefix: int, tabled: bool, layers: int) -> None:
    torch.manual_seed(0)
    m = DecoderTransformer(vocab=13, seq_len=4, n_out=13, d_model=16, n_heads=4, d_mlp=32, n_layers=layers,
                           arch=arch).double()
    x = torch.randint(0, 13, (40, 4))
    x[:, 1:prefix] = 12  # positions 1 … prefix-1 hold one fixed token, as the task promises
    with torch.no_grad():
        want = reference_decoder(m, x, arch == "grokfast")
    want_grads = torch.autograd.grad(reference_decoder(m, x, arch == "grokfast").square().sum(), list(m.parameters()),
                                     allow_unused=True)
    m.shared_prefix, m.tabled_first_block = prefix, tabled
    m.zero_grad()
    got = m(x)
    got.square().sum().backward()
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    for g, w in zip((p.grad for p in m.parameters()), want_grads):
        torch.testing.assert_close(g, w if w is not None else torch.zeros_like(g), rtol=0, atol=1e-10)


def test_grokfast_arch_is_the_reference_layout() -> None:
    torch.manual_seed(0)
    m = DecoderTransformer(vocab=99, seq_len=4, n_out=99, arch="grokfast")
    assert m.head.bias is None and m.head.out_features == 99
    assert all(isinstance(b.mlp[1], nn.GELU) and b.style == "grokfast" for b in m.blocks)
    assert 0.8 < float(m.pos.detach().std()) < 1.2  # nn.Embedding's N(0, 1), not a small init
    default = DecoderTransformer(vocab=98, seq_len=3, n_out=97)
    assert default.head.bias is not None and isinstance(default.blocks[0].mlp[1], nn.ReLU)


def test_factorised_mlp_equals_the_concatenation() -> None:
    torch.manual_seed(0)
    m = TokenMLP(vocab=11, n_tokens=2, n_out=11, d_embed=8, d_hidden=16).double()
    x = torch.randint(0, 11, (30, 2))
    plain = m.head(torch.relu(m.hidden(m.embed(x).flatten(1))))
    torch.testing.assert_close(m(x), plain, rtol=0, atol=1e-12)
