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


def _attend(attn: nn.MultiheadAttention, q_in: torch.Tensor, kv_in: torch.Tensor,
            prefix_kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """Causal multi-head attention with ``attn``'s own weights, batch first.

    Queries are the last ``q_in.shape[1]`` positions of ``kv_in``; ``prefix_kv`` (already
    projected keys and values of earlier positions) is seen by every query.
    """
    d, heads = attn.embed_dim, attn.num_heads
    w, b = attn.in_proj_weight, attn.in_proj_bias
    q = F.linear(q_in, w[:d], b[:d] if b is not None else None)
    k, v = F.linear(kv_in, w[d:], b[d:] if b is not None else None).chunk(2, dim=-1)
    n, lq, lk = q_in.shape[0], q_in.shape[1], kv_in.shape[1]
    mask = None
    if lq > 1:
        mask = torch.ones(lq, lk, dtype=torch.bool, device=q.device).tril(lk - lq)
    if prefix_kv is not None:
        k, v = torch.cat([prefix_kv[0], k], dim=1), torch.cat([prefix_kv[1], v], dim=1)
        if mask is not None:
            mask = torch.cat([mask.new_ones(lq, prefix_kv[0].shape[1]), mask], dim=1)
    lk = k.shape[1]
    q = q.view(n, lq, heads, d // heads).transpose(1, 2)
    k = k.view(n, lk, heads, d // heads).transpose(1, 2)
    v = v.view(n, lk, heads, d // heads).transpose(1, 2)
    o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return attn.out_proj(o.transpose(1, 2).reshape(n, lq, d))


def _project_kv(attn: nn.MultiheadAttention, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    d = attn.embed_dim
    b = attn.in_proj_bias
    k, v = F.linear(h, attn.in_proj_weight[d:], b[d:] if b is not None else None).chunk(2, dim=-1)
    return k, v


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
        self.shared_prefix = 0  # set by the task when its sequences allow it (see features)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        if 0 < self.shared_prefix < x.shape[1]:
            return self._features_shared_prefix(x)
        h = self.tok(x) + self.pos[: x.shape[1]]
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            h = block(h, last_only=i == last)
        return self.ln_f(h[:, -1])

    def _features_shared_prefix(self, x: torch.Tensor) -> torch.Tensor:
        """Same function, cheaper: positions ``< shared_prefix`` depend on token 0 only.

        Their states are computed once per vocabulary entry (causal attention never lets them see
        later positions) and their keys/values gathered per example; only the later positions run
        per example. The caller promises that positions ``1 … shared_prefix-1`` hold the same
        tokens in every row (e.g. the operator token of ``a ∘ b =``).
        """
        k = self.shared_prefix
        vocab = self.tok.num_embeddings
        first = torch.arange(vocab, device=x.device).unsqueeze(1)
        prefix = torch.cat([first, x[:1, 1:k].expand(vocab, k - 1)], dim=1)
        hp = self.tok(prefix) + self.pos[:k]
        hs = self.tok(x[:, k:]) + self.pos[k: x.shape[1]]
        index = x[:, 0]
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            kp, vp = block.prefix_kv(hp)
            hs = block(hs, last_only=i == last, prefix_kv=(kp[index], vp[index]))
            if i < last:
                hp = block(hp)
        return self.ln_f(hs[:, -1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

