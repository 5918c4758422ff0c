# The recommended PPM+CPT on the look-alike world, 5-shot: see
# ppm_cpt_toy-sd_recommended_1shot_lookalike.py.
_base_ = ['./ppm_cpt_toy-sd_recommended_1shot_lookalike.py']

test_dataloader = dict(dataset=dict(shots=5))
