# "Support copy" baseline on the toy data: each query keypoint is predicted at
# the support keypoint's position relative to the bbox crop. Same episodes and
# metric as configs/ppm/ppm_random-sd_1shot_toy.py.
_base_ = ['../ppm/ppm_random-sd_1shot_toy.py']

model = dict(_delete_=True, type='SupportCopyBaseline')
