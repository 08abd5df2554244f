"""Models for the algorithmic tasks: a two-token MLP and a small decoder transformer.

Every model has ``forward(x) -> logits`` and ``features(x) -> penultimate features``
so the loop can measure feature rank on any of them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TokenMLP(nn.Module):
    """Embed each input token, concatenate, one hidden ReLU layer, linear readout.

    The hidden layer of a concatenation is a sum of per-token projections, so it is computed
    as ``Σ_t (E·W_tᵀ)[x_t]``: one small (vocab × d_hidden) table per token position, gathered
    per example. Same parameters and same function as ``hidden(embed(x).flatten(1))``, but the
    (batch × n_tokens·d_embed × d_hidden) product becomes (vocab × d_embed × d_hidden).
    """

    def __init__(self, vocab: int, n_tokens: int, n_out: int, d_embed: int = 128, d_hidden: int = 512) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_embed)
        self.hidden = nn.Linear(n_tokens * d_embed, d_hidden)
        self.head = nn.Linear(d_hidden, n_out)
        self.n_tokens, self.d_embed = n_tokens, d_embed

    def features(self, x: torch.Tensor) -> torch.Tensor:
        w, emb, d = self.hidden.weight, self.embed.weight, self.d_embed
        h = self.hidden.bias
        for t in range(self.n_tokens):
            table = emb @ w[:, t * d:(t + 1) * d].t()
            h = h + F.embedding(x[:, t], table)
        return torch.relu(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _attend(attn: nn.MultiheadAttention, q_in: torch.Tensor, kv_in: torch.Tensor, causal: bool) -> torch.Tensor:
    """Multi-head attention with ``attn``'s own weights, batch first.

    Queries may be fewer than keys (only the last position): then every query sees every key.
    """
    d, heads = attn.embed_dim, attn.num_heads
    w, b = attn.in_proj_weight, attn.in_proj_bias
    bq, bkv = (b[:d], b[d:]) if b is not None else (None, None)
    q = F.linear(q_in, w[:d], bq)
    k, v = F.linear(kv_in, w[d:], bkv).chunk(2, dim=-1)
    n, lq, lk = q_in.shape[0], q_in.shape[1], kv_in.shape[1]
    q = q.view(n, lq, heads, d // heads).transpose(1, 2)
    k = k.view(n, lk, heads, d // heads).transpose(1, 2)
    v = v.view(n, lk, heads, d // heads).transpose(1, 2)
    o = F.scaled_dot_product_attention(q, k, v, is_causal=causal and lq == lk)
    return attn.out_proj(o.transpose(1, 2).reshape(n, lq, d))


class Block(nn.Module):
    """A causal self-attention + MLP block.

    ``style="preln"``: ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))`` (norm-free with
    ``layernorm=False``). ``style="grokfast"``: the block of ironjr/grokfast's ``main.py``, where
    the normalised input becomes the residual stream: ``x = ln1(x); x = x + attn(x); x = x + mlp(ln2(x))``.
    """

    def __init__(self, d_model: int, n_heads: int, d_mlp: int, layernorm: bool,
                 activation: str = "relu", style: str = "preln") -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        act: nn.Module = nn.GELU() if activation == "gelu" else nn.ReLU()
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), act, nn.Linear(d_mlp, d_model))
        self.style = style

    def forward(self, x: torch.Tensor, last_only: bool = False) -> torch.Tensor:
        """``last_only``: return the last position only (all positions still serve as keys)."""
        h = self.ln1(x)
        if self.style == "grokfast":
            x = h
        q = h[:, -1:] if last_only else h
        x = (x[:, -1:] if last_only else x) + _attend(self.attn, q, h, causal=True)
        return x + self.mlp(self.ln2(x))


class DecoderTransformer(nn.Module):
    """A small causal decoder (Power et al. / Nanda et al. style); scores the last position only.

    The last block computes queries, MLP and output at the last position only: the loss never
    reads the others. ``arch="grokfast"`` is ironjr/grokfast's decoder: its block, GELU, a
    position embedding initialised N(0, 1) and a bias-free head (over the whole vocabulary,
    as the caller sets ``n_out``).
    """

    def __init__(self, vocab: int, seq_len: int, n_out: int, d_model: int = 128, n_heads: int = 4,
                 n_layers: int = 2, d_mlp: int = 512, layernorm: bool = True, arch: str = "default") -> None:
        super().__init__()
        grokfast = arch == "grokfast"
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.randn(seq_len, d_model) * (1.0 if grokfast else 0.02))
        self.blocks = nn.ModuleList(
            Block(d_model, n_heads, d_mlp, layernorm, activation="gelu" if grokfast else "relu",
                  style="grokfast" if grokfast else "preln") for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.head = nn.Linear(d_model, n_out, bias=not grokfast)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.tok(x) + self.pos[: x.shape[1]]
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            h = block(h, last_only=i == last)
        return self.ln_f(h[:, -1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

