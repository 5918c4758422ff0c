# Copyright (c) mmppm contributors. All rights reserved.
"""Fixtures of the toy SD's tests."""
import os.path as osp

import pytest

PROJECT = osp.abspath(
    osp.join(osp.dirname(__file__), '..', '..', '..', 'projects', 'toy_sd'))


@pytest.fixture(scope='session')
def write_tiny_toy_sd_configs():
    """``write(folder) -> (vae_config, ldm_config)``: the toy SD's two stage
    configs at tiny sizes (seconds per iteration on a CPU), written to
    ``folder``."""

    def write(folder):
        vae = osp.join(str(folder), 'vae.py')
        with open(vae, 'w', encoding='utf-8') as f:
            f.write(f'''
_base_ = ['{PROJECT}/configs/toy-vae_kl-f4_scenes-128.py']
model = dict(vae=dict(block_out_channels=(8, 16, 16), norm_num_groups=4,
                      sample_size=32), train_patch=16)
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(crop_size=32, num_keypoints=(3, 5)))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
''')
        ldm = osp.join(str(folder), 'ldm.py')
        with open(ldm, 'w', encoding='utf-8') as f:
            f.write(f'''
_base_ = ['{PROJECT}/configs/toy-ldm_unet-32-64_clip_scenes-128.py']
model = dict(unet=dict(sample_size=8, block_out_channels=(8, 16),
                       norm_num_groups=4, cross_attention_dim=8,
                       attention_head_dim=2),
             text_encoder=dict(num_attention_heads=2))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(crop_size=32, num_keypoints=(3, 5)))
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
''')
        return vae, ldm

    return write
