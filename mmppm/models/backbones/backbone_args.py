# Copyright (c) mmppm contributors. All rights reserved.
"""The backbone's arguments, checked before any weights load, and the
small pieces its constructor composes (layer names, ``torch.compile``)."""
import json
import os.path as osp
from typing import Dict, NamedTuple, Optional, Tuple

import torch
from torch import Tensor

from mmppm.utils.errors import UserError
from mmppm.utils.numerics import is_int
from mmppm.utils.value_checks import (non_negative_int, one_of,
                                      precision_dtype, require)
from ..utils import MAP_REDUCTIONS


class LayerQueries(NamedTuple):
    """Cached queries of the captured layers (:meth:`layer_queries`).

    Attributes:
        queries (dict[str, Tensor]): ``{layer: [B, N_l, inner_l]}``.
        latent_hw (tuple[int, int]): ``(h, w)`` of the UNet input they were
            computed from (gives each layer's map shape).
    """
    queries: Dict[str, Tensor]
    latent_hw: Tuple[int, int]


CONTEXT_LAYOUTS = ('prompt', 'empty_text')

DTYPES = dict(
    float32=torch.float32, float16=torch.float16, bfloat16=torch.bfloat16)

_HALF = 'needs a CUDA GPU (this machine has none)'


def _scheduler_timesteps(pretrained) -> Optional[int]:
    """``num_train_timesteps`` of a local SD folder's scheduler, read from
    ``scheduler/scheduler_config.json`` before any weights load (None for a
    hub id, or a folder without that file: checked once it loads)."""
    if not isinstance(pretrained, str):
        return None
    path = osp.join(
        osp.expanduser(pretrained), 'scheduler', 'scheduler_config.json')
    try:
        with open(path, encoding='utf-8') as f:
            steps = json.load(f).get('num_train_timesteps')
    except (OSError, ValueError, AttributeError):
        return None
    return steps if is_int(steps) else None


def check_backbone_arguments(what: str, pretrained, torch_dtype: str, timestep,
                             input_size, map_reduction: str,
                             context_layout: str) -> None:
    """The backbone's arguments, checked before any weights load, each in
    the one line of :func:`mmppm.utils.value_checks.require`."""
    require(map_reduction, one_of(*MAP_REDUCTIONS), f'{what}.map_reduction',
            f'one of {MAP_REDUCTIONS}', 'head_mean')
    require(context_layout, one_of(*CONTEXT_LAYOUTS), f'{what}.context_layout',
            f'one of {CONTEXT_LAYOUTS}', 'prompt')
    require(torch_dtype, one_of(*DTYPES), f'{what}.torch_dtype',
            f'one of {sorted(DTYPES)}', 'float32')
    require(torch_dtype, precision_dtype, f'{what}.torch_dtype',
            f"'float32' (float16 / bfloat16 {_HALF})", 'float32')
    steps = _scheduler_timesteps(pretrained)
    require(timestep, non_negative_int, f'{what}.timestep',
            "an integer >= 0 (below the scheduler's num_train_timesteps)",
            '10')
    if steps is not None:
        require(
            timestep, lambda t: t < steps, f'{what}.timestep',
            f'an integer in [0, {steps}) (the scheduler of {pretrained} '
            f'has {steps} timesteps)', '10')
    require(
        input_size, lambda v: isinstance(v, (list, tuple)) and len(
            v) == 2 and all(is_int(x) and x > 0 and x % 8 == 0 for x in v),
        f'{what}.input_size', 'two integers >= 8, multiples of 8 (width, '
        "height: the VAE's and UNet's downsampling)", '"(512,512)"')


def resolve_layers(layers, all_attn2) -> list:
    """The ``.processor`` names of ``layers`` (None: every ``attn2`` layer),
    each checked against the UNet's ``attn2`` layers."""
    if layers is None:
        return list(all_attn2)
    names = []
    for name in layers:
        full = name if name.endswith('.processor') else name + '.processor'
        if full not in all_attn2:
            valid = '\n  '.join(n[:-len('.processor')] for n in all_attn2)
            raise UserError(
                f'Unknown cross-attention layer {name!r}. Valid names '
                f'(attn2 layers of this UNet):\n  {valid}')
        names.append(full)
    if not names:
        raise UserError('`layers` is empty: choose at least one attn2 '
                        'layer (or None for all)')
    return names


def compile_unet(unet, compile_cfg: Optional[dict]):
    """``torch.compile`` of the UNet's forward (a function, so it is
    not registered as a submodule and never enters checkpoints)."""
    if compile_cfg is None:
        return None
    if not isinstance(compile_cfg, dict):
        raise TypeError('compile_cfg must be None or a dict of '
                        'torch.compile keyword arguments, got '
                        f'{compile_cfg!r}')
    try:
        return torch.compile(unet.forward, **compile_cfg)
    except (TypeError, RuntimeError) as err:
        raise UserError(f'compile_cfg={compile_cfg!r} is not accepted '
                        f'by torch.compile: {err}') from err
