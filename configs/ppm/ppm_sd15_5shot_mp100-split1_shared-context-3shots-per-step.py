# PPM with Stable Diffusion 1.5 on MP-100 split 1, 5-shot, fast variant:
# shared-context maps (all prompts as the tokens of one context, one UNet
# pass per support image and step, one per query image), the paper's 100
# steps, each on 3 of the 5 support images (drawn anew every step). Counted
# at 512 px, 17 keypoints, 15 queries: 26.9x less work than the exact path.
# Paired with exact maps on the MP-100-shaped toy benchmark (toy SD; real SD
# not measured): -0.1 [-0.7, 0.5] PCK@0.2 (seeds 0-2); docs/benchmark.md,
# "Speed variants paired with exact maps". The paper's numbers come from
# ppm_sd15_5shot_mp100-split1.py (exact maps).
_base_ = ['./ppm_sd15_5shot_mp100-split1.py']

model = dict(
    fitter=dict(shots_per_step=3, map_mode=dict(type='SharedContextMaps')))
