"""Models for the algorithmic tasks: a two-token MLP and a small decoder transformer.

Every model has ``forward(x) -> logits`` and ``features(x) -> penultimate features``
so the loop can measure feature rank on any of them.
"""
from __future__ import annotations

import torch
from torch import nn


class TokenMLP(nn.Module):
    """Embed each input token, concatenate, one hidden ReLU layer, linear readout."""

    def __init__(self, vocab: int, n_tokens: int, n_out: int, d_embed: int = 128, d_hidden: int = 512) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_embed)
        self.hidden = nn.Linear(n_tokens * d_embed, d_hidden)
        self.head = nn.Linear(d_hidden, n_out)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.hidden(self.embed(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Block(nn.Module):
    """Pre-norm (or norm-free) causal self-attention + MLP block."""

    def __init__(self, d_model: int, n_heads: int, d_mlp: int, layernorm: bool) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class DecoderTransformer(nn.Module):
    """A small causal decoder (Power et al. / Nanda et al. style); scores the last position only."""

    def __init__(self, vocab: int, seq_len: int, n_out: int, d_model: int = 128, n_heads: int = 4,
                 n_layers: int = 2, d_mlp: int = 512, layernorm: bool = True) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.randn(seq_len, d_model) * 0.02)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, d_mlp, layernorm) for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.head = nn.Linear(d_model, n_out)
        mask = torch.triu(torch.ones(seq_len, seq_len, dtype=torch.bool), diagonal=1)
        self.register_buffer("mask", mask, persistent=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.tok(x) + self.pos[: x.shape[1]]
        mask = self.mask[: x.shape[1], : x.shape[1]]
        for block in self.blocks:
            h = block(h, mask)
        return self.ln_f(h[:, -1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
