# PPM on the toy data with the toy diffusion model trained on the toy world
# (data/toy_sd, shipped; projects/toy_sd/tools/train_toy_sd.py rebuilds it,
# projects/toy_sd/README.md). The README main job. Same episodes, crop, sigma
# and prompt fit as the tiny-random-SD config (configs/_base_/models/
# ppm_toy-fit.py); the toy SD's VAE downsamples 4x, so at SD input 128 its
# attention maps are 32 x 32 and 16 x 16. Maps from cached queries
# (map_mode=dict(type='CachedMaps')): chosen on the toy *val* split, where it
# found more query keypoints than the exact path (projects/toy_sd/README.md,
# indexed by docs/results.md); the exact path is
# `model.fitter.map_mode.type=ExactMaps`.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/ppm_toy-fit.py',
    '../_base_/datasets/toy_episodes.py'
]

model = dict(
    backbone=dict(pretrained='data/toy_sd'),
    fitter=dict(map_mode=dict(type='CachedMaps')))

default_hooks = dict(logger=dict(interval=1))
