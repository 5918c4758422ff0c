# Training-free feature matching (DIFT-style) on the toy SD (data/toy_sd):
# each support keypoint's UNet feature (output of up_blocks.0, 32 x 32 at SD
# input 128, timestep 10, zero-token context) is compared by cosine
# similarity with every query location; argmax. No prompts, no fit. Same
# episodes and metric as configs/ppm/ppm_toy-sd_1shot_toy.py; layer and
# timestep chosen on the toy val split (projects/toy_sd/README.md).
_base_ = ['../ppm/ppm_toy-sd_1shot_toy.py']

model = dict(
    _delete_=True,
    type='FeatureMatchingBaseline',
    data_preprocessor=dict(type='EpisodeDataPreprocessor'),
    backbone=dict(
        type='SDCrossAttnBackbone',
        pretrained='data/toy_sd',
        input_size=(128, 128),
        timestep=10),
    feature_layers=['up_blocks.0'],
    ensemble=1)
