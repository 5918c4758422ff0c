# Copyright (c) mmppm contributors. All rights reserved.
"""``CPTDiagnosticsHook``: gradient and update norms of the CPT parameters
(base prompts, P_bar, Phi) against hand-computed answers."""
import json
import math
import uuid
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.runner import LogProcessor, get_priority

from mmppm.engine.hooks import CPTDiagnosticsHook, cpt_parameter_groups
from mmppm.models.prompt_encoders.shared_prompt_mlp import SharedPromptMLP
from mmppm.utils.errors import UserError

LR = 0.1


class ToyCPT(nn.Module):
    """The CPT parameters of ``PPMEstimator``: ``base_prompts`` and a
    ``SharedPromptMLP`` as ``prompt_encoder`` (either may be absent)."""

    def __init__(self, base=True, encoder=True):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.base_prompts = nn.Parameter(torch.randn(3, 1, 4, generator=g)) \
            if base else None
        torch.manual_seed(0)
        self.prompt_encoder = SharedPromptMLP(embed_dims=4) if encoder \
            else None

    def loss(self, target):
        prompts = self.base_prompts if self.base_prompts is not None else \
            torch.ones(3, 1, 4)
        ctx = self.prompt_encoder(prompts) if self.prompt_encoder is not None \
            else prompts
        return ((ctx - target)**2).sum()


def _runner(model, **kwargs):
    hub = MessageHub.get_instance(f'test-cpt-diag-{uuid.uuid4().hex}')
    return SimpleNamespace(model=model, message_hub=hub, iter=0, **kwargs)


def _group_grad_norms(model):
    """By hand: the L2 norm of each group's ``.grad``."""
    groups = dict(base_prompts=[model.base_prompts] if model.
                  base_prompts is not None else [])
    if model.prompt_encoder is not None:
        groups['shared_prompt'] = [model.prompt_encoder.shared_prompt]
        groups['phi'] = list(model.prompt_encoder.mlp.parameters())
    return {
        k: math.sqrt(sum(float(p.grad.pow(2).sum()) for p in ps))
        for k, ps in groups.items() if ps
    }


def _train(hook, runner, iters, loss_scale=1.0):
    """Drive the hook as the Runner does, with a manual backward and an SGD
    step; returns the hand-computed grad norms of each iteration."""
    model = runner.model
    optim = torch.optim.SGD(model.parameters(), lr=LR)
    target = torch.full((3, 1, 4), 0.5)
    hook.before_train(runner)
    expected = []
    for i in range(iters):
        runner.iter = i
        hook.before_train_iter(runner, i)
        (model.loss(target) * loss_scale).backward()
        if loss_scale != 1.0:
            for p in model.parameters():
                p.grad /= loss_scale
        expected.append(_group_grad_norms(model))
        optim.step()
        optim.zero_grad()  # as the optim wrapper, before after_train_iter
        hook.after_train_iter(runner, i)
    hook.after_train(runner)
    return expected


def _logged(hub):
    return {k: v.current() for k, v in hub.log_scalars.items()}


def test_norms_of_the_logging_iterations():
    hook = CPTDiagnosticsHook(interval=2)
    # iteration 0 is not a logging iteration: nothing
    runner = _runner(ToyCPT())
    _train(hook, runner, 1)
    assert runner.message_hub.log_scalars == {}

    # iteration 1 is; the update of SGD without momentum is lr x grad
    runner = _runner(ToyCPT())
    expected = _train(hook, runner, 2)
    logged = _logged(runner.message_hub)
    groups = ('base_prompts', 'shared_prompt', 'phi')
    assert set(logged) == {
        f'train/{m}_{g}'
        for g in groups
        for m in ('grad_norm', 'update', 'rel_update')
    }
    for g in groups:
        grad = expected[1][g]
        assert grad > 0
        assert logged[f'train/grad_norm_{g}'] == pytest.approx(grad, rel=1e-5)
        assert logged[f'train/update_{g}'] == pytest.approx(
            LR * grad, rel=1e-4)
    # relative: over the norm before iteration 1's step (after iteration 0)
    model = ToyCPT()
    torch.optim.SGD(model.parameters(), lr=LR).zero_grad()
    model.loss(torch.full((3, 1, 4), 0.5)).backward()
    torch.optim.SGD(model.parameters(), lr=LR).step()
    size = math.sqrt(
        sum(
            float(p.detach().pow(2).sum())
            for p in model.prompt_encoder.mlp.parameters()))
    assert logged['train/rel_update_phi'] == pytest.approx(
        LR * expected[1]['phi'] / size, rel=1e-4)


def test_every_interval_and_nothing_in_between():
    # off the interval: no parameter copies, the gradient hooks collect
    # nothing
    model = ToyCPT()
    runner = _runner(model)
    hook = CPTDiagnosticsHook(interval=3)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    model.loss(torch.zeros(3, 1, 4)).backward()
    assert hook._before == {} and hook._grad_squares == {}
    hook.after_train_iter(runner, 0)
    hook.after_train(runner)
    assert runner.message_hub.log_scalars == {}

    model = ToyCPT()
    runner = _runner(model)
    expected = _train(CPTDiagnosticsHook(interval=3), runner, 7)
    hub = runner.message_hub
    values, counts = hub.get_scalar('train/grad_norm_phi').data
    # iterations 2 and 5 (0-based), as LoggerHook's (i + 1) % 3 == 0
    assert counts.tolist() == [1, 1]
    assert values.tolist() == pytest.approx(
        [expected[2]['phi'], expected[5]['phi']], rel=1e-5)


def test_groups_the_model_lacks_are_skipped():
    # no prompt encoder (plain PPM with base prompts): base prompts only
    runner = _runner(ToyCPT(encoder=False))
    expected = _train(CPTDiagnosticsHook(interval=1), runner, 1)
    logged = _logged(runner.message_hub)
    assert set(logged) == {
        'train/grad_norm_base_prompts', 'train/update_base_prompts',
        'train/rel_update_base_prompts'
    }
    assert logged['train/grad_norm_base_prompts'] == pytest.approx(
        expected[0]['base_prompts'], rel=1e-5)
    # no base prompts: the encoder's groups only
    runner = _runner(ToyCPT(base=False))
    _train(CPTDiagnosticsHook(interval=1), runner, 1)
    assert {k.rsplit('_', 1)[-1]
            for k in _logged(runner.message_hub)} == {'prompt', 'phi'}
    # neither (plain PPM at test time): nothing, and no error
    runner = _runner(ToyCPT(base=False, encoder=False))
    hook = CPTDiagnosticsHook(interval=1)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    hook.after_train_iter(runner, 0)
    hook.after_train(runner)
    assert runner.message_hub.log_scalars == {}


def test_frozen_or_gradient_less_group():
    model = ToyCPT()
    model.base_prompts.requires_grad_(False)  # frozen: not a group
    assert set(cpt_parameter_groups(model)) == {'shared_prompt', 'phi'}
    model = ToyCPT()
    runner = _runner(model)
    hook = CPTDiagnosticsHook(interval=1)
    hook.before_train(runner)
    hook.before_train_iter(runner, 0)
    # a loss that does not reach Phi's parameters or P_bar
    model.base_prompts.pow(2).sum().backward()
    model.base_prompts.grad = None
    hook.after_train_iter(runner, 0)
    logged = _logged(runner.message_hub)
    assert 'train/grad_norm_phi' not in logged  # no gradient: skipped
    assert 'train/grad_norm_shared_prompt' not in logged
    assert logged['train/grad_norm_base_prompts'] > 0
    assert logged['train/update_phi'] == 0.0  # no step was taken


def test_amp_loss_scale_is_divided_out():
    scaler = SimpleNamespace(get_scale=lambda: 1024.0, is_enabled=lambda: True)
    runner = _runner(
        ToyCPT(), optim_wrapper=SimpleNamespace(loss_scaler=scaler))
    expected = _train(
        CPTDiagnosticsHook(interval=1), runner, 1, loss_scale=1024.0)
    assert _logged(runner.message_hub)['train/grad_norm_phi'] == \
        pytest.approx(expected[0]['phi'], rel=1e-5)


def test_log_lines_show_the_latest_grad_norm():
    """mmengine averages keys containing ``grad_norm`` over its window; the
    hook makes the log show the latest value instead."""
    processor = LogProcessor(window_size=10, by_epoch=False)
    runner = _runner(ToyCPT(), log_processor=processor)
    _train(CPTDiagnosticsHook(interval=1), runner, 3)
    assert dict(data_src='grad_norm_phi', method_name='current') in \
        processor.custom_cfg
    tag = processor._collect_scalars(processor.custom_cfg, runner, 'train')
    latest = runner.message_hub.get_scalar('train/grad_norm_phi').current()
    mean = runner.message_hub.get_scalar('train/grad_norm_phi').mean(10)
    assert tag['grad_norm_phi'] == latest != pytest.approx(mean)
    # a second train() does not add them twice
    CPTDiagnosticsHook(interval=1).before_train(runner)
    assert [c['data_src']
            for c in processor.custom_cfg].count('grad_norm_phi') == 1


def test_priority_and_interval():
    assert get_priority(CPTDiagnosticsHook.priority) < get_priority(
        'BELOW_NORMAL')  # logged before LoggerHook writes the line
    for bad in (0, -1, 2.5, True):
        with pytest.raises(UserError, match='interval'):
            CPTDiagnosticsHook(interval=bad)


class RunnerToy(BaseModel):

    def __init__(self):
        super().__init__()
        self.cpt = ToyCPT()
        self.base_prompts = self.cpt.base_prompts
        self.prompt_encoder = self.cpt.prompt_encoder

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=self.cpt.loss(torch.stack(inputs).mean()))


def test_in_an_mmengine_runner(tmp_path):
    """In a real Runner (optim wrapper zeroing gradients, LoggerHook): the
    scalars reach scalars.json and the update is lr x grad (SGD)."""
    from mmengine.dataset import pseudo_collate
    from mmengine.runner import Runner

    runner = Runner(
        model=RunnerToy(),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.tensor(0.5))] * 8,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=pseudo_collate,
            batch_size=1,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=LR)),
        train_cfg=dict(by_epoch=False, max_iters=4),
        default_hooks=dict(
            logger=dict(
                type='LoggerHook', interval=2, log_metric_by_epoch=False),
            checkpoint=None),
        custom_hooks=[dict(type='CPTDiagnosticsHook', interval=2)],
        default_scope='mmpose',
        experiment_name=f'cpt-diag-{uuid.uuid4().hex}')
    runner.train()
    files = list(tmp_path.glob('*/vis_data/scalars.json'))
    assert len(files) == 1
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    logged = [line for line in lines if 'grad_norm_phi' in line]
    assert [line['step'] for line in logged] == [2, 4]
    for line in logged:
        for g in ('base_prompts', 'shared_prompt', 'phi'):
            assert line[f'grad_norm_{g}'] > 0
            assert line[f'update_{g}'] == pytest.approx(
                LR * line[f'grad_norm_{g}'], rel=1e-3)
