# The recommended PPM+CPT on the toy SD, 1-shot (docs/cpt.md, "PPM+CPT
# against feature matching"): the shipped CPT (data/toy_sd/cpt_toy.pth,
# ppm_cpt_toy-sd_toy.py) with two steps between its query maps and the
# argmax -- BOTH BEYOND THE PAPER (model.fusion, applied in order):
# FeatureSimilarityFusion (the maps times the support keypoints'
# UNet-feature similarity, ppm_cpt_toy-sd_feature-fusion_1shot.py), then
# SupportLayoutPrior (each map times a Gaussian around the place the
# support's layout, carried onto the query by a robust similarity
# transform, gives its keypoint: which of two look-alike twins is which).
# Chosen on the val categories of data seed 0 of both toy worlds
# (tools/analysis/fusion_sweep.py), confirmed on test categories
# (docs/results.md).
#   python tools/test.py configs/cpt/ppm_cpt_toy-sd_recommended_1shot.py
# Another world's data: --cfg-options
#   test_dataloader.dataset.data_root=data/toy_mp100_bench/seed1/
_base_ = ['./ppm_cpt_toy-sd_feature-fusion_1shot.py']

model = dict(fusion=[
    dict(
        type='FeatureSimilarityFusion',
        feature_layers=['up_blocks.0'],
        weight=0.75,
        temperature=0.03),
    dict(type='SupportLayoutPrior', sigma=0.1, scale=0.1, rounds=3),
])
