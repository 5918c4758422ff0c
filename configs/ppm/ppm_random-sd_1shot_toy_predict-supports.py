# Predict the supports: each support image is used as its own query (can the
# prompts reproduce the keypoints they were fitted on?).
_base_ = ['./ppm_random-sd_1shot_toy.py']

model = dict(test_cfg=dict(predict_supports=True))
