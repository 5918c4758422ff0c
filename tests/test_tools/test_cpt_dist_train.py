# Copyright (c) mmppm contributors. All rights reserved.
"""CPT with two processes on CPU (gloo): tools/train.py under torchrun on the
toy set with the toy CPT config and a tiny SD; save, resume, and DDP replicas
that stay identical."""
import os.path as osp

import torch

from mmppm.datasets import generate_toy_mp100
from mmppm.testing.tool_runs import rank_params, torchrun

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOY_CFG = osp.join(REPO, 'configs', 'cpt', 'ppm_cpt_random-sd_toy.py')
CPT_KEYS = {
    'base_prompts', 'prompt_encoder.shared_prompt',
    'prompt_encoder.mlp.0.weight', 'prompt_encoder.mlp.0.bias',
    'prompt_encoder.mlp.2.weight', 'prompt_encoder.mlp.2.bias'
}

CFG = """
_base_ = [{base!r}]
# DumpParamsHook (mmppm/testing/fakes.py) dumps each rank's
# parameters at the end of training.
custom_imports = dict(imports=['mmppm', 'mmppm.testing.fakes'],
                      allow_failed_imports=False)
data_root = {root!r}
model = dict(backbone=dict(pretrained={sd!r}))
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(dataset=dict(data_root=data_root))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=2)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval=2,
                    by_epoch=False))
custom_hooks = [dict(type='DumpParamsHook')]
log_level = 'WARNING'
"""


def test_two_process_cpt_train_save_resume(tmp_path, random_sd_dir,
                                           monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # 2 processes, 2 cores
    root = tmp_path / 'toy'
    generate_toy_mp100(
        root,
        seed=0,
        num_categories=(3, 1, 1),
        instances_per_category=8,
        num_keypoints=(4, 8))
    cfg = tmp_path / 'cpt_dist.py'
    cfg.write_text(
        CFG.format(base=TOY_CFG, root=str(root) + '/', sd=random_sd_dir))
    work_dir = str(tmp_path / 'work')

    torchrun('train.py', str(cfg), '--work-dir', work_dir)
    first = [rank_params(work_dir, r) for r in (0, 1)]
    assert first[0]['iter'] == first[1]['iter'] == 2
    assert set(first[0]['params']) == CPT_KEYS  # no SD weight
    for key in CPT_KEYS:
        assert torch.equal(first[0]['params'][key], first[1]['params'][key])
    ckpt = torch.load(
        osp.join(work_dir, 'iter_2.pth'),
        map_location='cpu',
        weights_only=False)
    assert set(ckpt['state_dict']) == CPT_KEYS
    for key in CPT_KEYS:
        assert torch.equal(ckpt['state_dict'][key], first[0]['params'][key])

    # auto-resume from iter_2.pth and train on to 4 iterations
    torchrun('train.py', str(cfg), '--work-dir', work_dir, '--resume',
             '--cfg-options', 'train_cfg.max_iters=4')
    second = [rank_params(work_dir, r) for r in (0, 1)]
    assert second[0]['iter'] == second[1]['iter'] == 4
    for key in CPT_KEYS:
        assert torch.equal(second[0]['params'][key], second[1]['params'][key])
        assert not torch.equal(second[0]['params'][key],
                               first[0]['params'][key]), key
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
