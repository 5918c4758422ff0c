# PPM on the bundled toy data with a tiny random-weight SD (the tests' model).
# `python tools/run_toy.py --random-sd` creates data/toy_mp100 and
# data/random_sd first. The toy episodes (heatmap sigma 8 crop pixels,
# CPU-sized counts) are configs/_base_/datasets/toy_episodes.py; the input
# size and prompt fit on the toy data are configs/_base_/models/ppm_toy-fit.py.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/ppm_toy-fit.py',
    '../_base_/datasets/toy_episodes.py'
]

model = dict(backbone=dict(pretrained='data/random_sd'))

default_hooks = dict(logger=dict(interval=1))
