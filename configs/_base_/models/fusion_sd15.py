# The recommended test-time fusion of PPM's query maps with UNet-feature
# similarity for SD 1.5 -- BEYOND THE PAPER (FeatureSimilarityFusion,
# docs/cpt.md, "PPM+CPT against feature matching"). Carried over from the
# toy SD, NOT measured on SD 1.5 / MP-100: the weight and temperature are
# the toy's choice, the feature layer DIFT's for SD (up_blocks.1) at PPM's
# timestep. Choose them on a val split (tools/analysis/fusion_sweep.py)
# before reporting a number. Used as `model = dict(fusion=_base_.fusion)`.
fusion = dict(
    type='FeatureSimilarityFusion',
    feature_layers=['up_blocks.1'],
    weight=0.75,
    temperature=0.03)
