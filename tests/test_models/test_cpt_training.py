# Copyright (c) mmppm contributors. All rights reserved.
"""CPT training through mmengine's Runner on toy data with a tiny SD.

What is trained and saved (P_bar, Phi, base prompts; never SD), resume, and
clear errors for checkpoints of another split (K) or SD model (c)."""
import copy
import json
import os.path as osp
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

import mmppm.testing.fakes  # noqa: F401  (SnapshotHook)
from mmppm.compat.checkpoint_compat import register_checkpoint_safe_globals
from mmppm.datasets import MP100Dataset, generate_toy_mp100
from mmppm.datasets.base_keypoints import (count_base_keypoints,
                                           fill_num_base_keypoints)
from mmppm.testing.ppm_configs import estimator_cfg

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOY_CFG = osp.join(REPO, 'configs', 'cpt', 'ppm_cpt_random-sd_toy.py')

TRAINABLE = {
    'base_prompts', 'prompt_encoder.shared_prompt',
    'prompt_encoder.mlp.0.weight', 'prompt_encoder.mlp.0.bias',
    'prompt_encoder.mlp.2.weight', 'prompt_encoder.mlp.2.bias'
}


@pytest.fixture(autouse=True)
def _one_thread_and_safe_checkpoints():
    register_checkpoint_safe_globals()  # as tools/train.py does
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy_cpt')
    generate_toy_mp100(
        root,
        seed=0,
        num_categories=(3, 1, 1),
        instances_per_category=6,
        num_keypoints=(4, 8))
    return str(root)


def fresh_names(cfg, work_dir):
    """A new work dir and experiment (mmengine caches loggers, message hubs
    and visualizers by name)."""
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'cpt_{uuid.uuid4().hex}'
    cfg.visualizer.name = cfg.experiment_name
    return cfg


def make_cfg(work_dir, toy_root, sd_dir, max_iters=2, **overrides):
    """The toy CPT config on ``toy_root``: no validation, tiny sizes."""
    cfg = Config.fromfile(TOY_CFG)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = toy_root + '/'
    cfg.model.backbone.pretrained = sd_dir
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=2, by_epoch=False)
    cfg.default_hooks.logger.interval = 1
    cfg.custom_hooks = [dict(type='SnapshotHook')]
    fresh_names(cfg, work_dir)
    cfg.log_level = 'WARNING'
    cfg.merge_from_dict(overrides)
    fill_num_base_keypoints(cfg)
    return cfg


def bare(model):
    return model.module if hasattr(model, 'module') else model


def snapshot(runner):
    (hook, ) = [h for h in runner.hooks if type(h).__name__ == 'SnapshotHook']
    return hook.snapshot


def sd_weights(model):
    backbone = bare(model).backbone
    return {
        f'{part}.{k}': v.detach().clone()
        for part in ('unet', 'vae')
        for k, v in getattr(backbone, part).state_dict().items()
    }


# --------------------------------------------------------------------------
# K from the train file


def test_num_base_keypoints_from_train_file(toy_root, tmp_path):
    ann = osp.join(toy_root, 'annotations', 'mp100_split1_train.json')
    dataset = MP100Dataset(ann_file=ann, mode='train')
    k = count_base_keypoints(ann)
    assert k == dataset.num_total_keypoints
    assert k == sum(
        len(c['keypoints']) for c in json.load(open(ann))['categories'])

    cfg = Config.fromfile(TOY_CFG)
    cfg.train_dataloader.dataset.data_root = toy_root
    assert cfg.model.train_cfg.num_base_keypoints is None
    assert fill_num_base_keypoints(cfg) == k
    assert cfg.model.train_cfg.num_base_keypoints == k
    assert fill_num_base_keypoints(cfg) == k  # a right value is kept
    cfg.model.train_cfg.num_base_keypoints = k + 1
    with pytest.raises(ValueError, match=f'has {k} keypoints'):
        fill_num_base_keypoints(cfg)
    cfg.model.prompt_encoder = None  # plain PPM: nothing to fill
    assert fill_num_base_keypoints(cfg) is None


def test_train_tool_fills_k(toy_root, load_tool):
    train = load_tool('train.py')
    from mmppm.engine.cli import load_tool_config
    from mmppm.utils.errors import ToolError
    args = train.parse_args([
        TOY_CFG, '--cfg-options',
        f'train_dataloader.dataset.data_root={toy_root}'
    ])
    cfg = train.merge_args(load_tool_config(TOY_CFG, None, 'none'), args)
    ann = osp.join(toy_root, 'annotations', 'mp100_split1_train.json')
    assert cfg.model.train_cfg.num_base_keypoints == count_base_keypoints(ann)
    args = train.parse_args(
        [TOY_CFG, '--cfg-options', 'train_dataloader.dataset.data_root=/nope'])
    with pytest.raises(ToolError, match='Annotation file not found'):
        train.merge_args(load_tool_config(TOY_CFG, None, 'none'), args)


# --------------------------------------------------------------------------
# Training: what is optimised and saved


def test_only_trainable_params_optimised_and_saved(toy_root, random_sd_dir,
                                                   tmp_path):
    cfg = make_cfg(tmp_path / 'w', toy_root, random_sd_dir, max_iters=2)
    runner = Runner.from_cfg(cfg)
    model = bare(runner.model)
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names == TRAINABLE
    k = cfg.model.train_cfg.num_base_keypoints
    c = model.backbone.cross_attention_dim
    assert model.base_prompts.shape == (k, 1, c)
    sd_before = sd_weights(runner.model)
    runner.train()
    start = snapshot(runner)['params']

    # the optimiser holds exactly the six CPT tensors, the base prompts at
    # the test-time fit's lr (configs/ppm_cpt_split1.py: 4 x 5e-4)
    groups = runner.optim_wrapper.optimizer.param_groups
    optimised = {id(p) for g in groups for p in g['params']}
    assert optimised == {
        id(p)
        for n, p in model.named_parameters() if n in TRAINABLE
    }
    lr_of = {id(p): g['lr'] for g in groups for p in g['params']}
    assert lr_of[id(model.base_prompts)] == pytest.approx(4 * 5e-4)
    assert lr_of[id(model.prompt_encoder.shared_prompt)] == pytest.approx(5e-4)
    # they moved, SD did not
    for name in TRAINABLE:
        assert not torch.equal(start[name], model.state_dict()[name]), name
    sd_after = sd_weights(runner.model)
    assert sd_after.keys() == sd_before.keys() and len(sd_after) > 10
    for name, value in sd_before.items():
        assert torch.equal(value, sd_after[name]), name

    ckpt = torch.load(
        osp.join(cfg.work_dir, 'iter_2.pth'),
        map_location='cpu',
        weights_only=False)
    assert set(ckpt['state_dict']) == TRAINABLE
    assert ckpt['meta']['iter'] == 2
    for name, value in ckpt['state_dict'].items():
        assert torch.equal(value, model.state_dict()[name])
    saved_adam = ckpt['optimizer']['state']
    assert len(saved_adam) == len(TRAINABLE)


def test_resume_restores_params_optimizer_and_iter(toy_root, random_sd_dir,
                                                   tmp_path):
    cfg = make_cfg(tmp_path / 'w', toy_root, random_sd_dir, max_iters=2)
    Runner.from_cfg(cfg).train()
    ckpt_path = osp.join(cfg.work_dir, 'iter_2.pth')
    ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=False)

    cfg = make_cfg(
        tmp_path / 'w',
        toy_root,
        random_sd_dir,
        max_iters=4,
        resume=True,
        load_from=ckpt_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    start = snapshot(runner)
    assert start['iter'] == 2
    assert start['params'].keys() == ckpt['state_dict'].keys()
    for name, value in ckpt['state_dict'].items():
        assert torch.equal(start['params'][name], value), name
    saved, restored = ckpt['optimizer'], start['optimizer']
    assert restored['param_groups'] == saved['param_groups']
    for idx, state in saved['state'].items():
        for key, value in state.items():
            assert torch.equal(restored['state'][idx][key], value), (idx, key)
    # and training went on from there
    assert runner.iter == 4
    model = bare(runner.model)
    for name in TRAINABLE:
        assert not torch.equal(start['params'][name],
                               model.state_dict()[name]), name
    step = runner.optim_wrapper.optimizer.state_dict()['state'][0]['step']
    assert float(step) == 4
    assert osp.isfile(osp.join(cfg.work_dir, 'iter_4.pth'))


# --------------------------------------------------------------------------
# Checkpoints that do not fit the config


@pytest.fixture(scope='module')
def cpt_checkpoint(toy_root, random_sd_dir, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('cpt_ckpt')
    cfg = make_cfg(work_dir, toy_root, random_sd_dir, max_iters=2)
    Runner.from_cfg(cfg).train()
    return osp.join(cfg.work_dir, 'iter_2.pth'), cfg


def test_checkpoint_of_another_split_is_a_clear_error(cpt_checkpoint,
                                                      tmp_path):
    path, cfg = cpt_checkpoint
    k = cfg.model.train_cfg.num_base_keypoints
    other = fresh_names(copy.deepcopy(cfg), tmp_path / 'w')
    other.model.train_cfg.num_base_keypoints = k + 7  # e.g. another split
    other.load_from = path
    runner = Runner.from_cfg(other)
    with pytest.raises(
            ValueError,
            match=rf'base_prompts has shape \({k}, 1, 32\).*'
            r'num_base_keypoints'):
        runner.load_or_resume()
    # the same checkpoint under the right K loads
    same = fresh_names(copy.deepcopy(cfg), tmp_path / 'w2')
    same.load_from = path
    runner = Runner.from_cfg(same)
    runner.load_or_resume()
    saved = torch.load(path, map_location='cpu', weights_only=False)
    for name, value in saved['state_dict'].items():
        assert torch.equal(bare(runner.model).state_dict()[name], value)


def test_checkpoint_of_another_sd_is_a_clear_error(cpt_checkpoint, tmp_path):
    path, cfg = cpt_checkpoint
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    # what an SD with c=16 would have produced
    state = ckpt['state_dict']
    state['prompt_encoder.shared_prompt'] = torch.zeros(1, 1, 16)
    state['prompt_encoder.mlp.0.weight'] = torch.zeros(16, 32)
    bad = str(tmp_path / 'other_sd.pth')
    torch.save(ckpt, bad)
    cfg = fresh_names(copy.deepcopy(cfg), tmp_path / 'w')
    model = Runner.from_cfg(cfg).model
    with pytest.raises(ValueError, match=r'channels c=32.*pretrained'):
        load_checkpoint(model, bad, map_location='cpu')


def test_test_time_ignores_base_prompts(cpt_checkpoint, tmp_path):
    """tools/test.py with the CPT config: K unknown (None), the checkpoint's
    P_bar and Phi load, its base prompts are not needed."""
    path, cfg = cpt_checkpoint
    test_cfg = fresh_names(copy.deepcopy(cfg), tmp_path / 'w')
    test_cfg.model.train_cfg.num_base_keypoints = None
    runner = Runner.from_cfg(test_cfg)
    model = bare(runner.model)
    assert model.base_prompts is None
    load_checkpoint(model, path, map_location='cpu')
    saved = torch.load(path, map_location='cpu', weights_only=False)
    for name in TRAINABLE - {'base_prompts'}:
        assert torch.equal(model.state_dict()[name],
                           saved['state_dict'][name]), name


# --------------------------------------------------------------------------
# Trustworthy runs: exact resume, no training on NaN, no silent plain PPM


def final_params(runner):
    return {
        k: v.detach().clone()
        for k, v in bare(runner.model).state_dict().items()
    }


def test_resumed_run_equals_an_uninterrupted_one(toy_root, random_sd_dir,
                                                 tmp_path):
    hooks = [dict(type='SnapshotHook'), dict(type='RandomStateHook')]
    straight = Runner.from_cfg(
        make_cfg(
            tmp_path / 'a',
            toy_root,
            random_sd_dir,
            max_iters=4,
            custom_hooks=hooks))
    straight.train()
    first = Runner.from_cfg(
        make_cfg(
            tmp_path / 'b',
            toy_root,
            random_sd_dir,
            max_iters=2,
            custom_hooks=hooks))
    first.train()
    resumed = Runner.from_cfg(
        make_cfg(
            tmp_path / 'b',
            toy_root,
            random_sd_dir,
            max_iters=4,
            custom_hooks=hooks,
            resume=True,
            load_from=osp.join(str(tmp_path / 'b'), 'iter_2.pth')))
    resumed.train()
    a, b = final_params(straight), final_params(resumed)
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_non_finite_loss_stops_before_any_checkpoint(toy_root, random_sd_dir,
                                                     tmp_path):
    cfg = make_cfg(
        tmp_path / 'w',
        toy_root,
        random_sd_dir,
        max_iters=4,
        custom_hooks=[dict(type='FiniteLossHook')])
    cfg.optim_wrapper.optimizer.lr = 1e20
    with pytest.raises(
            FloatingPointError, match=r'iteration \d.*loss=nan.*loss_map'):
        Runner.from_cfg(cfg).train()
    for name in ('iter_2.pth', 'iter_4.pth'):
        path = osp.join(cfg.work_dir, name)
        if osp.isfile(path):  # saved before the loss went NaN: finite
            state = torch.load(
                path, map_location='cpu', weights_only=False)['state_dict']
            assert all(torch.isfinite(v).all() for v in state.values())


def test_cpt_checkpoint_in_a_plain_ppm_config_is_an_error(
        cpt_checkpoint, random_sd_dir):
    path, _ = cpt_checkpoint
    from mmpose.registry import MODELS
    plain = MODELS.build(estimator_cfg(random_sd_dir))
    with pytest.raises(ValueError, match='CPT weights.*no prompt_encoder'):
        load_checkpoint(plain, path, map_location='cpu')


@pytest.mark.parametrize('edit, match', [
    ('drop', r"missing \['prompt_encoder.mlp.2.bias', "
     r"'prompt_encoder.mlp.2.weight'\], unexpected \[\]"),
    ('add', r"missing \[\], unexpected \['prompt_encoder.extra'\]"),
])
def test_a_cpt_checkpoint_with_missing_or_extra_encoder_keys_is_an_error(
        cpt_checkpoint, random_sd_dir, tmp_path, edit, match):
    """tools/test.py used to report PCK with the missing layer randomly
    initialised (mmengine only warns about missing keys)."""
    from mmpose.registry import MODELS
    path, _ = cpt_checkpoint
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    state = ckpt['state_dict']
    if edit == 'drop':
        for k in [k for k in state if k.startswith('prompt_encoder.mlp.2.')]:
            del state[k]
    else:
        state['prompt_encoder.extra'] = torch.zeros(1)
    broken = tmp_path / 'broken.pth'
    torch.save(ckpt, broken)
    model = MODELS.build(
        estimator_cfg(
            random_sd_dir, prompt_encoder=dict(type='SharedPromptMLP')))
    with pytest.raises(
            ValueError, match='does not match the config.*' + match):
        load_checkpoint(model, str(broken), map_location='cpu')
    assert not model.prompt_encoder_ready
    load_checkpoint(model, path, map_location='cpu')  # the intact one loads
    assert model.prompt_encoder_ready


def test_cached_cpt_loss_equals_the_exact_map_term_on_the_first_layer(
        toy_root, random_sd_dir, tmp_path):
    """On the first attn2 layer the queries depend on the image only, so
    the cached maps of train_cfg.map_mode=CachedMaps are the exact ones:
    the same map loss, and no diffusion term."""
    from mmengine.dataset import pseudo_collate
    first = 'down_blocks.0.attentions.0.transformer_blocks.0.attn2'
    losses = {}
    for mode in ('ExactMaps', 'CachedMaps'):
        cfg = make_cfg(tmp_path / mode, toy_root, random_sd_dir)
        cfg.model.backbone.layers = [first]
        cfg.model.train_cfg.map_mode = dict(type=mode)
        runner = Runner.from_cfg(cfg)
        model = bare(runner.model)
        torch.manual_seed(0)
        model.prompt_encoder.init_weights()
        dataset = runner.train_dataloader.dataset
        data = model.data_preprocessor(
            pseudo_collate([dataset[i] for i in range(3)]), True)
        torch.manual_seed(1)  # the same noise in both modes
        losses[mode] = model.loss(data['inputs'], data['data_samples'])
    assert set(losses['CachedMaps']) == {'loss_map'}
    assert 'loss_dm' in losses['ExactMaps']
    torch.testing.assert_close(
        losses['CachedMaps']['loss_map'],
        losses['ExactMaps']['loss_map'],
        rtol=1e-4,
        atol=1e-6)
