# Copyright (c) mmppm contributors. All rights reserved.
"""CPT: the category-shared prompt and the MLP over [P_bar, P] (paper
Eq. 5)."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import UserError


@MODELS.register_module()
class SharedPromptMLP(BaseModule):
    """Context = Phi([P_bar, P]) with a learned shared prompt P_bar.

    Args:
        embed_dims (int): Token channels c (``cross_attention_dim``). Filled
            in by the estimator from the backbone when left None.
        hidden_dims (int, optional): Hidden width of Phi. Defaults to
            ``embed_dims``.
        act_cfg (dict): Activation between the two linear layers. Defaults to
            ``dict(type='GELU')``.
        shared_init_std (float): Std of the normal init of P_bar. Defaults to
            1.0.
        residual (bool): Context = ``P + Phi([P_bar, P])`` with Phi's last
            layer initialised to zero, so an untrained encoder is plain PPM
            and training starts from it (an option the paper leaves open,
            docs/cpt.md "Residual Phi"). Defaults to False: the paper's
            ``Phi([P_bar, P])`` (Eq. 5).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 embed_dims: Optional[int] = None,
                 hidden_dims: Optional[int] = None,
                 act_cfg: dict = dict(type='GELU'),
                 shared_init_std: float = 1.0,
                 residual: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims is None:
            raise UserError('SharedPromptMLP needs embed_dims (the UNet '
                            'cross_attention_dim)')
        hidden_dims = embed_dims if hidden_dims is None else hidden_dims
        self.embed_dims = embed_dims
        self.shared_prompt = nn.Parameter(
            torch.randn(1, 1, embed_dims) * shared_init_std)  # P_bar
        self.mlp = nn.Sequential(
            nn.Linear(2 * embed_dims, hidden_dims), MODELS.build(act_cfg),
            nn.Linear(hidden_dims, embed_dims))
        self.residual = residual
        if residual:
            nn.init.zeros_(self.mlp[-1].weight)
            nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, prompts: Tensor) -> Tensor:
        """``[N, T, c]`` prompts -> ``[N, T, c]`` UNet context tokens."""
        shared = self.shared_prompt.to(prompts.dtype).expand(
            prompts.shape[0], prompts.shape[1], -1)
        out = self.mlp(torch.cat([shared, prompts], dim=-1))
        return prompts + out if self.residual else out

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name, param in self.named_parameters():
            key = prefix + name
            if key in state_dict and state_dict[key].shape != param.shape:
                raise UserError(
                    f'Checkpoint does not match the CPT prompt encoder: '
                    f'{key} has shape {tuple(state_dict[key].shape)} in the '
                    f'checkpoint but {tuple(param.shape)} in the model (token '
                    f'channels c={self.embed_dims}). Use the SD model the '
                    'checkpoint was trained with (model.backbone.pretrained) '
                    'and the same prompt_encoder config.')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
