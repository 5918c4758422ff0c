# PPM with Stable Diffusion 1.5 on MP-100 split 4, 1-shot, fast variant:
# shared-context maps (all prompts as the tokens of one context, one UNet
# pass per support image and step, one per query image) at 60 of the
# paper's 100 steps. Its counted work against the exact path and its PCK
# paired with exact maps on the toy benchmark (real SD not measured):
# docs/results.md, "Speed (CPU measurements, GPU projections)". The paper's
# numbers come from ppm_sd15_1shot_mp100-split4.py
# (exact maps).
_base_ = ['./ppm_sd15_1shot_mp100-split4.py']

model = dict(fitter=dict(steps=60, map_mode=dict(type='SharedContextMaps')))
