# PPM with Stable Diffusion 1.5 on MP-100 split 1, 1-shot, fast variant:
# shared-context maps (all prompts as the tokens of one context, one UNet
# pass per support image and step, one per query image) at 60 of the
# paper's 100 steps. Counted at 512 px, 17 keypoints, 15 queries: 23.4x less
# work than the exact path. Paired with exact maps on the MP-100-shaped toy
# benchmark (toy SD; real SD not measured): +2.8 [0.9, 4.8] PCK@0.2 (seed 0),
# +1.5 [0.0, 3.0] (seeds 1, 2); docs/benchmark.md, "Speed variants paired with
# exact maps". The paper's numbers come from ppm_sd15_1shot_mp100-split1.py
# (exact maps).
_base_ = ['./ppm_sd15_1shot_mp100-split1.py']

model = dict(fitter=dict(steps=60, map_mode=dict(type='SharedContextMaps')))
