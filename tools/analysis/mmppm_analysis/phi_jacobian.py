# Copyright (c) mmppm contributors. All rights reserved.
"""What CPT's Phi (paper Eq. 5) does to the prompt space.

The context of a prompt P is ``encoder(P) = Phi([P_bar, P])`` (or
``P + Phi([P_bar, P])`` with ``residual=True``). Its Jacobian d context /
d P at a prompt tells how many directions of the prompt space still reach
the UNet (the effective rank: a collapsed Phi maps every prompt to about
the same context) and how much it stretches them (the singular values); the
norm of the contexts can be compared with that of the text encoder's
tokens, the contexts the UNet was trained on
(``tools/analysis/cpt_phi_report.py``: :func:`phi_report_line` is its line
per checkpoint).
"""
import math
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
from torch import Tensor

from mmppm.utils.errors import UserError, first_line


def phi_jacobian(encoder: nn.Module, prompt: Tensor) -> Tensor:
    """The Jacobian of a prompt encoder's context at one prompt.

    Args:
        encoder (nn.Module): A prompt encoder mapping ``[N, T, c]`` prompts
            to ``[N, T, c]`` contexts, e.g.
            :class:`~mmppm.models.SharedPromptMLP` (paper Eq. 5: Phi over
            ``[P_bar, P]``; with ``residual=True`` the identity of the skip
            connection is included).
        prompt (Tensor): One prompt ``[c]`` (or anything with c elements),
            in the encoder's dtype.

    Returns:
        Tensor: ``[c, c]`` float32, ``J[i, j] = d context_i / d P_j`` of
        ``encoder(prompt[None, None])``; the encoder's parameters are
        constants.
    """
    point = prompt.detach().reshape(-1)

    def context(p: Tensor) -> Tensor:
        return encoder(p[None, None])[0, 0]

    with torch.enable_grad():
        return torch.func.jacrev(context)(point).detach().float()


def effective_rank(singular_values: Union[Tensor, Sequence[float]]) -> float:
    """The effective rank of a matrix from its singular values (Roy &
    Vetterli 2007): ``exp(H(p))`` with ``p = s / sum(s)`` and ``H`` the
    Shannon entropy (``0 log 0 = 0``).

    It is between 1 (one non-zero singular value: rank 1) and the number of
    singular values (all equal: e.g. the identity of size n gives n).

    Args:
        singular_values (Tensor | Sequence[float]): Non-negative singular
            values (any order).

    Returns:
        float: The effective rank; 0.0 for the zero matrix (or no values).
    """
    s = torch.as_tensor(singular_values, dtype=torch.float64).reshape(-1)
    s = s.abs()
    total = float(s.sum())
    if not total > 0:
        return 0.0
    p = s[s > 0] / total
    return math.exp(float(-(p * p.log()).sum()))


def phi_report(encoder: nn.Module,
               prompts: Tensor,
               token_norms: Optional[Tensor] = None) -> dict:
    """Summary of what an encoder does around some prompts.

    Args:
        encoder (nn.Module): The prompt encoder (see :func:`phi_jacobian`).
        prompts (Tensor): ``[N, c]`` prompts, e.g. drawn like the fit's
            initial prompts (``N(0, prompt_init_std^2)``).
        token_norms (Tensor, optional): Norms of text-encoder tokens (e.g.
            of some words), the scale of the contexts the UNet knows.

    Returns:
        dict: Floats (and ``num_prompts``, ``embed_dims`` ints):

        - ``effective_rank_mean`` / ``_min`` / ``_max``: of the Jacobian
          (:func:`effective_rank`) over the prompts, out of ``embed_dims``.
        - ``top_singular_value_mean``: mean largest singular value (the
          largest stretch of a prompt direction).
        - ``singular_value_ratio_mean``: mean smallest / largest singular
          value (0: some direction is lost).
        - ``output_norm_mean``: mean norm of ``encoder(prompts)``.
        - ``input_norm_mean``: mean norm of the prompts.
        - ``token_norm_mean``: mean of ``token_norms`` (only when given).
    """
    if prompts.dim() != 2 or prompts.shape[0] == 0:
        raise ValueError(f'phi_report: prompts must be [N, c] with N >= 1, '
                         f'got shape {tuple(prompts.shape)}')
    ranks, tops, ratios = [], [], []
    for prompt in prompts:
        s = torch.linalg.svdvals(phi_jacobian(encoder, prompt).double())
        ranks.append(effective_rank(s))
        top = float(s.max())
        tops.append(top)
        ratios.append(float(s.min()) / top if top > 0 else 0.0)
    with torch.no_grad():
        outputs = encoder(prompts.detach()[:, None])[:, 0].float()
    report = dict(
        num_prompts=int(prompts.shape[0]),
        embed_dims=int(prompts.shape[1]),
        effective_rank_mean=sum(ranks) / len(ranks),
        effective_rank_min=min(ranks),
        effective_rank_max=max(ranks),
        top_singular_value_mean=sum(tops) / len(tops),
        singular_value_ratio_mean=sum(ratios) / len(ratios),
        output_norm_mean=float(outputs.norm(dim=-1).mean()),
        input_norm_mean=float(prompts.detach().float().norm(dim=-1).mean()))
    if token_norms is not None:
        report['token_norm_mean'] = float(
            torch.as_tensor(token_norms).float().mean())
    return report


def text_token_norms(model, words):
    """Norms ``[len(words)]`` of the words' text-encoder tokens, or None
    (and why) where the SD folder has no text encoder."""
    embed = getattr(model.backbone, 'embed_texts', None)
    if embed is None:
        return None, 'the backbone has no text encoder (embed_texts)'
    try:
        with torch.no_grad():
            return embed(list(words)).float().norm(dim=-1), None
    except UserError as e:
        return None, first_line(e)


def phi_report_line(name: str, report: dict) -> str:
    """The printed line of one checkpoint."""
    line = (f"{name}: effective rank {report['effective_rank_mean']:.1f} "
            f"(min {report['effective_rank_min']:.1f}, max "
            f"{report['effective_rank_max']:.1f}) of "
            f"{report['embed_dims']}; top singular value "
            f"{report['top_singular_value_mean']:.3g}, smallest/largest "
            f"{report['singular_value_ratio_mean']:.3g}; norm "
            f"|P| {report['input_norm_mean']:.3g} -> context "
            f"{report['output_norm_mean']:.3g}")
    if 'token_norm_mean' in report:
        line += f" (text tokens {report['token_norm_mean']:.3g})"
    return line
