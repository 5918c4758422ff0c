# PPM on the toy data with the toy SD, fitted in two stages
# (model.fitter.type='WarmStartFitter', docs/benchmark.md "Speed variants"):
# the toy fit on cached maps (50 Adam steps, as ppm_toy-sd_1shot_toy.py), then
# 10 steps on shared-context maps (all prompts as the tokens of one context,
# one UNet pass per support image and step) from there; the query maps are
# shared-context maps. At SD 1.5 / 512 px, 17 keypoints, 15 queries the
# paper-sized version (100 cached + 10 shared-context steps) counts 64x
# (1-shot) and 117x (5-shot) less work than the exact path
# (tools/analysis/project_split_cost.py).
_base_ = ['./ppm_toy-sd_1shot_toy.py']

model = dict(
    fitter=dict(
        _delete_=True,
        type='WarmStartFitter',
        warm_start=dict(
            type='PromptFitter',
            steps=50,
            lr=0.1,
            prompt_init_std=0.1,
            map_mode=dict(type='CachedMaps', max_batch=64)),
        steps=10,
        lr=0.1,
        map_mode=dict(type='SharedContextMaps', max_batch=64)))
