# Copyright (c) mmppm contributors. All rights reserved.
"""End to end: a CPT checkpoint of tools/train.py records its training
categories, and tools/test.py refuses to test it on them (one line, before
any episode) unless --allow-train-categories."""
import json
import os.path as osp

import torch

from mmppm.datasets import generate_toy_mp100
from mmppm.engine.hooks.category_hygiene_hook import META_KEY
from mmppm.testing.tool_runs import REPO, load_script

BASE = osp.join(REPO, 'configs', 'cpt', 'ppm_cpt_random-sd_toy.py')
CFG = """
_base_ = [{base!r}]
data_root = {root!r}
model = dict(backbone=dict(pretrained={sd!r}), fitter=dict(steps=1))
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(dataset=dict(data_root=data_root, num_episodes=1,
                                    num_queries=2))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1)
default_hooks = dict(
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval=1,
                    by_epoch=False))
log_level = 'WARNING'
"""


def test_a_checkpoint_is_not_tested_on_its_training_categories(
        tmp_path, random_sd_dir, one_line_error, monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    root = tmp_path / 'toy'
    generate_toy_mp100(
        root,
        seed=0,
        num_categories=(2, 1, 1),
        instances_per_category=6,
        num_keypoints=(4, 6))
    cfg = tmp_path / 'cpt.py'
    cfg.write_text(
        CFG.format(base=BASE, root=str(root) + '/', sd=random_sd_dir))
    work = tmp_path / 'work'
    load_script('tools/train.py').main([str(cfg), '--work-dir', str(work)])
    ckpt = str(work / 'iter_1.pth')
    meta = torch.load(ckpt, map_location='cpu', weights_only=False)['meta']
    assert sorted(meta[META_KEY].values()) == ['toy_cat00', 'toy_cat01']

    test = load_script('tools/test.py')
    on_train = [
        str(cfg), ckpt, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options',
        'test_dataloader.dataset.ann_file=annotations/mp100_split1_train.json'
    ]
    line = one_line_error(test.main, on_train)
    assert line.startswith('error: 2 test categories are training categories '
                           'of the checkpoint (toy_cat00, toy_cat01')
    assert not list((tmp_path / 'test').rglob('*.queries.json'))
    out = tmp_path / 'metrics.json'
    test.main(on_train[:4] + ['--allow-train-categories', '--out',
                              str(out)] + on_train[4:])
    assert 'PCK' in json.loads(out.read_text())
    # the test split: no clash, no flag needed
    test.main([str(cfg), ckpt, '--work-dir', str(tmp_path / 'clean')])
