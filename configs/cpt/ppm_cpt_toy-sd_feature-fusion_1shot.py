# PPM+CPT x feature similarity on the toy SD, 1-shot (docs/cpt.md, "PPM+CPT
# against feature matching"; the benchmark's cpt_fm row; the recommended
# config adds the support's layout, ppm_cpt_toy-sd_recommended_1shot.py):
# the shipped CPT (data/toy_sd/cpt_toy.pth,
# ppm_cpt_toy-sd_toy.py) with its query maps fused with the support
# keypoints' UNet-feature similarity before the argmax -- BEYOND THE PAPER
# (model.fusion, FeatureSimilarityFusion: a weighted product of the prompt
# map and softmax(cosine / temperature); weight 0 is the paper's PPM+CPT,
# 1 is training-free feature matching). Weight and temperature chosen on
# the val categories of data seed 0 (tools/analysis/fusion_sweep.py),
# confirmed on the test categories of seeds 0-2 (docs/results.md).
#   python tools/test.py configs/cpt/ppm_cpt_toy-sd_feature-fusion_1shot.py
# Another world's data: --cfg-options
#   test_dataloader.dataset.data_root=data/toy_mp100_bench/seed1/
_base_ = ['./ppm_cpt_toy-sd_toy.py']

model = dict(
    fusion=dict(
        type='FeatureSimilarityFusion',
        feature_layers=['up_blocks.0'],  # feature matching's (same t)
        weight=0.75,
        temperature=0.03))
load_from = 'data/toy_sd/cpt_toy.pth'
