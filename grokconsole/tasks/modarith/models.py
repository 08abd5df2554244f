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


def _small_attention(attn: nn.MultiheadAttention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     offset: int) -> torch.Tensor:
    """Causal attention for short sequences, batch first: (n, lq, d) queries at positions
    ``offset …`` over (n, lk, d) keys/values → (n, lq, d) before the output projection.

    Broadcast products instead of a fused kernel: for a handful of positions the batched
    matmuls inside SDPA are mostly overhead (3× slower here on CPU, forward + backward).
    """
    n, lq, d = q.shape
    lk, heads = k.shape[1], attn.num_heads
    dh = d // heads
    q = q.view(n, lq, 1, heads, dh) * dh ** -0.5
    scores = (q * k.view(n, 1, lk, heads, dh)).sum(-1)  # (n, lq, lk, heads)
    if lq > 1 or offset + lq < lk:
        causal = torch.ones(lq, lk, dtype=torch.bool, device=q.device).tril(offset)
        scores = scores.masked_fill(~causal.view(1, lq, lk, 1), float("-inf"))
    weights = scores.softmax(dim=2).unsqueeze(-1)
    return (weights * v.view(n, 1, lk, heads, dh)).sum(2).reshape(n, lq, d)


def _project_kv(attn: nn.MultiheadAttention, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    d = attn.embed_dim
    b = attn.in_proj_bias
    k, v = F.linear(h, attn.in_proj_weight[d:], b[d:] if b is not None else None).chunk(2, dim=-1)
    return k, v


def _attend(attn: nn.MultiheadAttention, q_in: torch.Tensor, kv_in: torch.Tensor,
            prefix_kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Causal multi-head attention with ``attn``'s own weights, batch first.

    Queries are the last ``q_in.shape[1]`` positions of ``kv_in``; ``prefix_kv`` (already
    projected keys and values of earlier positions) is seen by every query.
    """
    d = attn.embed_dim
    b = attn.in_proj_bias
    q = F.linear(q_in, attn.in_proj_weight[:d], b[:d] if b is not None else None)
    k, v = _project_kv(attn, kv_in)
    if prefix_kv is not None:
        k, v = torch.cat([prefix_kv[0], k], dim=1), torch.cat([prefix_kv[1], v], dim=1)
    o = _small_attention(attn, q, k, v, k.shape[1] - q.shape[1])
    return attn.out_proj(o)


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

    def forward(self, x: torch.Tensor, last_only: bool = False,
                prefix_kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """``last_only``: return the last position only (all positions still serve as keys).

        ``prefix_kv``: projected keys/values of positions before ``x`` (see DecoderTransformer).
        """
        h = self.ln1(x)
        if self.style == "grokfast":
            x = h
        q = h[:, -1:] if last_only else h
        x = (x[:, -1:] if last_only else x) + _attend(self.attn, q, h, prefix_kv)
        return x + self.mlp(self.ln2(x))

    def prefix_kv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values this block's attention makes of the positions ``x``."""
        return _project_kv(self.attn, self.ln1(x))


class DecoderTransformer(nn.Module):
    """A small causal decoder (Power et al. / Nanda et al. style); scores the last position only.

    The last block computes queries, MLP and output at the last position only: the loss never
    reads the others. ``arch="grokfast"`` is ironjr/grokfast's decoder: its block, GELU, a
    position embedding initialised N(0, 1) and a bias-free head (over the whole vocabulary,
    as the caller sets ``n_out``). Parameters are created in the reference's order, drawing the
    same random numbers, so ``torch.manual_seed(s)`` gives its initial weights.

    Speed (same function, fewer FLOPs; ``tests/train/test_models.py`` compares every path with
    torch's own attention):

    * the first block's attention reads only ``embedding + position``, a function of (position,
      token): its queries, keys, values and residuals are tables over (position, vocabulary
      entry), computed once per forward and gathered per example (no per-example QKV matmul);
    * ``shared_prefix = k``: positions ``< k`` depend on token 0 alone (the caller promises that
      positions ``1 … k-1`` hold the same token in every row), so their states are computed once
      per vocabulary entry and their keys/values gathered per example.
    """

    def __init__(self, vocab: int, seq_len: int, n_out: int, d_model: int = 128, n_heads: int = 4,
                 n_layers: int = 2, d_mlp: int = 512, layernorm: bool = True, arch: str = "default") -> None:
        super().__init__()
        grokfast = arch == "grokfast"
        self.tok = nn.Embedding(vocab, d_model)
        if grokfast:
            # ironjr/grokfast draws an nn.Embedding(seq_len + 1, d) (its seq_len=5 for 4 tokens):
            # draw the same numbers so the blocks after it get the reference's initial weights.
            self.pos = nn.Parameter(torch.randn(seq_len + 1, d_model)[:seq_len].clone())
        else:
            self.pos = nn.Parameter(torch.randn(seq_len, d_model) * 0.02)
        self.blocks = nn.ModuleList(
            Block(d_model, n_heads, d_mlp, layernorm, activation="gelu" if grokfast else "relu",
                  style="grokfast" if grokfast else "preln") for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.head = nn.Linear(d_model, n_out, bias=not grokfast)
        self.shared_prefix = 0  # set by the task when its sequences allow it (see the class docstring)
        self.tabled_first_block = True  # False: the first block runs per example like the others

    def features(self, x: torch.Tensor) -> torch.Tensor:
        n_pos = x.shape[1]
        last = len(self.blocks) - 1
        tables = self._first_block_tables(n_pos) if self.tabled_first_block else None
        k = self.shared_prefix if 0 < self.shared_prefix < n_pos and last > 0 else 0
        if k:
            vocab = self.tok.num_embeddings
            first = torch.arange(vocab, device=x.device).unsqueeze(1)
            prefix = torch.cat([first, x[:1, 1:k].expand(vocab, k - 1)], dim=1)
            hp = self._first_block(prefix, 0, tables)
            hs = self._first_block(x, k, tables)
            index = x[:, 0]
            for i, block in enumerate(self.blocks[1:], start=1):
                kp, vp = block.prefix_kv(hp)
                prefix_kv = (kp.index_select(0, index), vp.index_select(0, index))
                hs = block(hs, last_only=i == last, prefix_kv=prefix_kv)
                if i < last:
                    hp = block(hp)
            return self.ln_f(hs[:, -1])
        h = self._first_block(x, n_pos - 1 if last == 0 else 0, tables)
        for i, block in enumerate(self.blocks[1:], start=1):
            h = block(h, last_only=i == last)
        return self.ln_f(h[:, -1])

    def _first_block_tables(self, n_pos: int) -> tuple[torch.Tensor, ...]:
        """Queries, keys, values and residuals of the first block for every (position, vocabulary
        entry): rows ``position · vocab + token`` of (rows, d) tables."""
        block, attn = self.blocks[0], self.blocks[0].attn
        e = (self.tok.weight.unsqueeze(0) + self.pos[:n_pos].unsqueeze(1)).flatten(0, 1)
        normed = block.ln1(e)
        q, k, v = F.linear(normed, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
        return q, k, v, normed if block.style == "grokfast" else e

    def _first_block(self, x: torch.Tensor, start: int, tables: tuple[torch.Tensor, ...] | None) -> torch.Tensor:
        """States after the first block at positions ``start …`` of the token rows ``x``."""
        block = self.blocks[0]
        if tables is None:
            h = self.tok(x) + self.pos[: x.shape[1]]
            return block(h)[:, start:] if start < x.shape[1] - 1 else block(h, last_only=True)
        n, n_pos = x.shape
        idx = x + torch.arange(n_pos, device=x.device) * self.tok.num_embeddings

        def gather(table: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
            # index_select: its backward is an index_add, ~30× faster on CPU than that of table[rows]
            return table.index_select(0, rows.reshape(-1)).view(n, rows.shape[1], table.shape[1])

        q, k, v, resid = tables
        query_rows = idx[:, start:]
        o = _small_attention(block.attn, gather(q, query_rows), gather(k, idx), gather(v, idx), start)
        h = gather(resid, query_rows) + block.attn.out_proj(o)
        return h + block.mlp(block.ln2(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
