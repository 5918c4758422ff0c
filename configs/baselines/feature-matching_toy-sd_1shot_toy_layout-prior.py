# Feature matching (feature-matching_toy-sd_1shot_toy.py) with the support's
# layout as a prior on its similarity maps before the argmax -- BEYOND DIFT
# (SupportLayoutPrior, the recommended PPM+CPT config's last step, same
# arguments): the benchmark's fm_layout row, so that the layout prior is
# compared on both sides (docs/cpt.md, "PPM+CPT against feature matching").
_base_ = ['./feature-matching_toy-sd_1shot_toy.py']

model = dict(
    fusion=dict(type='SupportLayoutPrior', sigma=0.1, scale=0.1, rounds=3))
