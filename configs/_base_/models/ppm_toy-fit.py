# PPM's settings on the bundled toy data, shared by the toy-data configs
# whatever the diffusion model (the tiny random-weight SD of the tests,
# data/random_sd, or the toy SD trained on the toy world, data/toy_sd): SD
# input 128 (the finest attention map of the tiny UNets is then 16 x 16) and
# the prompt fit chosen by evidence on the oracle models (docs/method.md,
# "Choosing the fit"): the normalised cross-entropy map objective, prompts
# initialised at N(0, 0.1^2), Adam lr 0.1, 50 steps -- fit and query PCK@0.2
# 1.00 on both oracles, where the paper's MSE
# (`model.head.loss.type=MSEMapLoss`) fits 0.07-0.16 at any lr tried.
_base_ = ['./ppm_sd15.py']

model = dict(
    backbone=dict(input_size=(128, 128)),
    head=dict(loss=dict(type='NormalizedCEMapLoss')),
    fitter=dict(
        steps=50, lr=0.1, prompt_init_std=0.1, map_mode=dict(max_batch=64)))
