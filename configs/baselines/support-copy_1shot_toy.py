# "Support copy" baseline on the toy data: each query keypoint is predicted at
# the support keypoint's position relative to the bbox crop. Same episodes and
# metric as the toy PPM configs (configs/_base_/datasets/toy_episodes.py).
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/toy_episodes.py']

model = dict(type='SupportCopyBaseline')

default_hooks = dict(logger=dict(interval=1))
