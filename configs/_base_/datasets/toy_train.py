# Toy MP-100 training instances for CPT (data/toy_mp100): the pipeline of
# mp100_train.py with the toy's Gaussian target sigma (as toy_episodes.py)
# and no loader workers.
_base_ = ['./mp100_train.py']

train_heatmap_sigma = 8.0  # Gaussian target sigma, crop pixels
train_codec = dict(_base_.train_codec, sigma=train_heatmap_sigma)
# A base's lists keep the base's values: the pipeline is the base's with this
# codec in its GenerateTarget.
train_pipeline = [
    dict(step, encoder=train_codec) if step.type == 'GenerateTarget' else step
    for step in _base_.train_pipeline
]

train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root='data/toy_mp100/', pipeline=train_pipeline))
