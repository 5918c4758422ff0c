# PPM with Stable Diffusion 1.5 on MP-100 split 1, 5-shot, fast variant:
# shared-context maps (all prompts as the tokens of one context, one UNet
# pass per support image and step, one per query image), the paper's 100
# steps, each on 3 of the 5 support images (drawn anew every step). Its
# counted work against the exact path and its PCK paired with exact maps on
# the toy benchmark (real SD not measured): docs/results.md, "Speed (CPU
# measurements, GPU projections)". The paper's numbers come from
# ppm_sd15_5shot_mp100-split1.py (exact maps).
_base_ = ['./ppm_sd15_5shot_mp100-split1.py']

model = dict(
    fitter=dict(shots_per_step=3, map_mode=dict(type='SharedContextMaps')))
