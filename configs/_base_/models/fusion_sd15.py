# The recommended test-time steps between PPM's query maps and the argmax
# for SD 1.5 -- BEYOND THE PAPER (docs/cpt.md, "PPM+CPT against feature
# matching"): FeatureSimilarityFusion (the maps times UNet-feature
# similarity), then SupportLayoutPrior (the support's layout carried onto
# the query). Carried over from the toy SD, NOT measured on SD 1.5 /
# MP-100: the weight, temperature and prior are the toy's choice (the
# prior's sigma and scale are fractions of the map side, so they carry no
# SD unit), the feature layer DIFT's for SD (up_blocks.1) at PPM's
# timestep. The layout prior never mirrors: a query facing the other way
# from its support is pulled to the wrong places (the toy worlds never
# mirror; MP-100 does). Choose them on a val split
# (tools/analysis/fusion_sweep.py --layout-sigmas) before reporting a
# number. Used as `model = dict(fusion=_base_.fusion)`.
fusion = [
    dict(
        type='FeatureSimilarityFusion',
        feature_layers=['up_blocks.1'],
        weight=0.75,
        temperature=0.03),
    dict(type='SupportLayoutPrior', sigma=0.1, scale=0.1, rounds=3),
]
