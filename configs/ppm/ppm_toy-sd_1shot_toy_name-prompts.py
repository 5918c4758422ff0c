# The word prompts on the toy SD (no fit): each keypoint's prompt is its name
# -- the caption word of its blob (projects/toy_sd/README.md) -- encoded by
# the toy SD's
# own text encoder, and used as it is (no fitting: steps=0). A known-good
# prompt that exists inside the learned model; PPM's fit is measured against
# it. Same episodes, maps and decoding as configs/ppm/ppm_toy-sd_1shot_toy.py.
# With steps > 0 the fit starts at the names instead of a random init.
_base_ = ['./ppm_toy-sd_1shot_toy.py']

model = dict(test_cfg=dict(prompt_init='names'), fitter=dict(steps=0))
