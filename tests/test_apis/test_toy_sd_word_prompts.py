# Copyright (c) mmppm contributors. All rights reserved.
"""The shipped toy SD (data/toy_sd) as a known-answer model: its caption
words are prompts that localise their blobs (projects/toy_sd/README.md), so
the fit, started at them, must keep what they find."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmppm_analysis.fit_diagnostics import fit_landscape, run_fit_diagnostics

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY_SD = osp.join(REPO, 'data', 'toy_sd')
NAMES = osp.join(REPO, 'configs/ppm/ppm_toy-sd_1shot_toy_name-prompts.py')


@pytest.fixture(scope='module')
def toy_cfg(toy_default_root):
    if not osp.isfile(osp.join(TOY_SD, 'text_encoder', 'config.json')):
        pytest.skip('the shipped toy SD (data/toy_sd) is not in this tree')
    cfg = Config.fromfile(NAMES)
    cfg.model.backbone.pretrained = TOY_SD
    cfg.test_dataloader.dataset.data_root = str(toy_default_root) + '/'
    cfg.test_dataloader.dataset.num_queries = 1
    return cfg


def test_word_prompts_localise_and_the_fit_keeps_them(toy_cfg):
    torch.set_num_threads(1)
    words = run_fit_diagnostics(
        toy_cfg, episodes=1)  # steps=0: the words alone
    assert words['fit_pck']['0.20'] >= 0.7, words['fit_pck']  # 0.88
    fitted = toy_cfg.copy()
    fitted.model.fitter.steps = 20  # the fit, started at the words
    result = run_fit_diagnostics(fitted, episodes=1)
    kept = result['fit_pck']['0.20']  # 0.90 measured
    assert kept >= words['fit_pck']['0.20'] - 0.02
    # from a random init the fit goes below the words' objective (7.9 vs
    # 8.5 measured): the optimiser does not stop short of the words; that
    # it can still localise a little worse than them (0.81 vs 0.88 at 20
    # steps) is the objective's doing (projects/toy_sd/README.md, "Why the
    # fit missed")
    land = fit_landscape(fitted, episodes=1, alphas=(0.0, 0.5, 1.0))
    assert land['mean_objective'][0] <= land['mean_objective'][-1]
    assert np.isfinite(land['fit_norm']) and land['name_pck'] >= 0.7
