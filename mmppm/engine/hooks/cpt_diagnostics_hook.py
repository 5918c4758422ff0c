# Copyright (c) mmppm contributors. All rights reserved.
"""CPT training diagnostics: gradient and update norms per parameter group."""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

from mmppm.utils.errors import UserError
from mmppm.utils.numerics import is_int

#: The parameter groups, in logging order.
GROUPS = ('base_prompts', 'shared_prompt', 'phi')


def cpt_parameter_groups(model: nn.Module) -> Dict[str, List[nn.Parameter]]:
    """The trainable CPT parameters of a model, by group.

    Groups: ``base_prompts`` (the model's ``base_prompts``, the P^k of paper
    Eq. 6), ``shared_prompt`` (P_bar: ``prompt_encoder.shared_prompt``) and
    ``phi`` (every ``prompt_encoder.mlp.*`` parameter: Phi of paper Eq. 5).
    A group the model does not have (no ``prompt_encoder``, no
    ``base_prompts``: plain PPM, or CPT at test time) or whose parameters
    are all frozen is left out.

    Args:
        model (nn.Module): The model, or a model wrapper (DDP) around it.

    Returns:
        dict: ``{group: [parameters]}``, only non-empty groups, in the order
        of :data:`GROUPS`.
    """
    if is_model_wrapper(model):
        model = model.module
    found = {}
    base = getattr(model, 'base_prompts', None)
    if isinstance(base, nn.Parameter):
        found['base_prompts'] = [base]
    encoder = getattr(model, 'prompt_encoder', None)
    if isinstance(encoder, nn.Module):
        shared = getattr(encoder, 'shared_prompt', None)
        if isinstance(shared, nn.Parameter):
            found['shared_prompt'] = [shared]
        mlp = getattr(encoder, 'mlp', None)
        if isinstance(mlp, nn.Module):
            found['phi'] = list(mlp.parameters())
    groups = {}
    for name in GROUPS:
        params = [p for p in found.get(name, []) if p.requires_grad]
        if params:
            groups[name] = params
    return groups


def _norm(squares: List[torch.Tensor]) -> float:
    """sqrt of a sum of squared norms (scalar tensors)."""
    return float(torch.stack(squares).sum().sqrt())


@HOOKS.register_module()
class CPTDiagnosticsHook(Hook):
    """Log, every ``interval`` training iterations, how large the gradients
    and the optimiser's steps are for each group of CPT parameters.

    Scalars (in the runner's message hub, so in mmengine's log lines and
    ``scalars.json``), per group of :func:`cpt_parameter_groups`
    (``base_prompts``, ``shared_prompt``, ``phi``):

    - ``grad_norm_<group>``: L2 norm of the group's gradients of that
      iteration. Gradients are read by ``Tensor.register_hook`` during the
      backward pass (the optim wrapper zeroes them before
      ``after_train_iter``), so before gradient clipping; the squared norms
      of all backward passes of the iteration are summed (one pass: exactly
      the gradient's norm). Under AMP the loss scale is divided out. In a
      distributed run it is this process's gradient, before DDP averages
      it. A group that got no gradient is not logged.
    - ``update_<group>``: L2 norm of the change of the group's parameters
      over the iteration (the optimiser's step; 0 on an iteration that only
      accumulates gradients or that AMP skips).
    - ``rel_update_<group>``: ``update_<group>`` over the norm of the
      group's parameters before the step (not logged when that norm is 0).

    Nothing is logged for a group the model does not have, so the hook also
    runs on plain PPM (it then logs nothing). On other iterations the
    gradient hooks only test a flag and no parameter is copied.

    mmengine's ``LogProcessor`` shows keys containing ``grad_norm`` as the
    mean over its ``window_size`` latest values, which for a value logged
    every ``interval`` iterations would span ``window_size * interval``
    iterations; ``before_train`` therefore adds a ``custom_cfg`` entry that
    shows the latest ``grad_norm_<group>`` (unless the config has one for
    that key).

    Args:
        interval (int): Log every ``interval`` training iterations (the
            iterations ``i`` with ``(i + 1) % interval == 0``, as
            ``LoggerHook``; a log line between two of them shows the
            previous values, so use a multiple of the logger's interval).
            Defaults to 25.

    Example:
        >>> custom_hooks = [dict(type='CPTDiagnosticsHook', interval=25)]
    """

    priority = 'NORMAL'  # after_train_iter before LoggerHook's (BELOW_NORMAL)

    def __init__(self, interval: int = 25) -> None:
        if not is_int(interval) or interval < 1:
            raise UserError(f'CPTDiagnosticsHook: interval must be an '
                            f'integer >= 1, got {interval!r}')
        self.interval = interval
        self._groups: Dict[str, List[nn.Parameter]] = {}
        self._handles: list = []
        self._active = False
        self._grad_squares: Dict[str, List[torch.Tensor]] = {}
        self._before: Dict[str, List[torch.Tensor]] = {}
        self._loss_scale = 1.0

    # ----------------------------------------------------------- setup
    def before_train(self, runner) -> None:
        """Find the groups, hook their gradients, and make the log show the
        latest gradient norms (see the class docstring)."""
        self._remove_handles()
        self._groups = cpt_parameter_groups(runner.model)
        for group, params in self._groups.items():
            for param in params:
                self._handles.append(
                    param.register_hook(self._grad_hook(group)))
        self._show_latest_grad_norms(runner)

    def after_train(self, runner) -> None:
        """Remove the gradient hooks."""
        self._remove_handles()
        self._active = False

    def _remove_handles(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _grad_hook(self, group: str):

        def hook(grad: torch.Tensor) -> None:
            if self._active:
                self._grad_squares.setdefault(group, []).append(
                    grad.detach().float().pow(2).sum())

        return hook

    def _show_latest_grad_norms(self, runner) -> None:
        processor = getattr(runner, 'log_processor', None)
        if processor is None or not hasattr(processor, 'custom_cfg'):
            return
        custom = list(processor.custom_cfg or [])
        named = {c.get('log_name', c.get('data_src')) for c in custom}
        for group in self._groups:
            key = f'grad_norm_{group}'
            if key not in named:
                custom.append(dict(data_src=key, method_name='current'))
        processor.custom_cfg = custom

    # ------------------------------------------------------ iterations
    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        """On a logging iteration: start collecting gradients and copy the
        parameters."""
        self._active = bool(self._groups) and self.every_n_train_iters(
            runner, self.interval)
        self._grad_squares = {}
        self._before = {}
        if not self._active:
            return
        self._loss_scale = self._current_loss_scale(runner)
        self._before = {
            group: [p.detach().clone() for p in params]
            for group, params in self._groups.items()
        }

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        """On a logging iteration: log the norms (see the class
        docstring)."""
        if not self._active:
            return
        self._active = False
        hub = runner.message_hub
        for group, params in self._groups.items():
            squares = self._grad_squares.get(group)
            if squares:
                hub.update_scalar(f'train/grad_norm_{group}',
                                  _norm(squares) / self._loss_scale)
            before = self._before[group]
            update = _norm([(p.detach().float() - b.float()).pow(2).sum()
                            for p, b in zip(params, before)])
            hub.update_scalar(f'train/update_{group}', update)
            size = _norm([b.float().pow(2).sum() for b in before])
            if size > 0:
                hub.update_scalar(f'train/rel_update_{group}', update / size)
        self._grad_squares = {}
        self._before = {}

    @staticmethod
    def _current_loss_scale(runner) -> float:
        """The AMP loss scale the coming backward pass multiplies the
        gradients by (1 without AMP)."""
        scaler = getattr(
            getattr(runner, 'optim_wrapper', None), 'loss_scaler', None)
        if scaler is None or not hasattr(scaler, 'get_scale'):
            return 1.0
        if hasattr(scaler, 'is_enabled') and not scaler.is_enabled():
            return 1.0
        scale = float(scaler.get_scale())
        return scale if scale > 0 else 1.0
