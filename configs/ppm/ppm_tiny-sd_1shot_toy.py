# PPM on the bundled toy data with a tiny random-weight SD (README main job).
# `python tools/run_toy.py` creates data/toy_mp100 and data/tiny_sd first.
# Toy-specific values (see README "Toy results"): SD input 128 (the tiny UNet's
# finest attention map is then 16 x 16), heatmap sigma 8 crop pixels, lr 2e-2
# and 60 steps so that a CPU run takes minutes.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/ppm_sd15.py',
    '../_base_/datasets/mp100_episodes.py'
]

data_root = 'data/toy_mp100/'
crop_size = (256, 256)
heatmap_sigma = 8.0
codec = dict(
    type='MSRAHeatmap',
    input_size=crop_size,
    heatmap_size=crop_size,
    sigma=heatmap_sigma)
support_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=crop_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]

model = dict(
    backbone=dict(pretrained='data/tiny_sd', input_size=(128, 128)),
    test_cfg=dict(steps=60, lr=2e-2, prompt_init_std=1.0, max_batch=64))

test_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        num_episodes=4,
        num_queries=3,
        pipeline=support_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        num_episodes=2,
        num_queries=3,
        pipeline=support_pipeline))
default_hooks = dict(logger=dict(interval=1))
