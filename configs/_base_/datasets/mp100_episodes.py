# MP-100 episodes (CapeFormer / POMNet protocol). Override `split`, `shots`.
dataset_type = 'MP100Dataset'
data_root = 'data/mp100/'
split = 1
shots = 1
crop_size = (256, 256)  # benchmark crop; maps and targets live here
heatmap_sigma = 2.0  # Gaussian target sigma, crop pixels

codec = dict(
    type='MSRAHeatmap',
    input_size=crop_size,
    heatmap_size=crop_size,
    sigma=heatmap_sigma)

support_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=crop_size),
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs'),
]
query_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(type='TopdownAffine', input_size=crop_size),
    dict(type='PackPoseInputs'),
]

val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='episode_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=f'annotations/mp100_split{split}_val.json',
        data_prefix=dict(img='images/'),
        mode='val',
        shots=shots,
        num_queries=15,
        num_episodes=100,
        pipeline=support_pipeline,
        query_pipeline=query_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='episode_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=f'annotations/mp100_split{split}_test.json',
        data_prefix=dict(img='images/'),
        mode='test',
        shots=shots,
        num_queries=15,
        num_episodes=200,
        pipeline=support_pipeline,
        query_pipeline=query_pipeline))
val_evaluator = dict(type='EpisodicPCK')
test_evaluator = val_evaluator
