# MP-100 episodes (CapeFormer / POMNet protocol), split 1, 1-shot. A child
# sets another split through the dataloaders' `ann_file` and the shots through
# their `shots` (variables of a base file do not reach its children).
dataset_type = 'MP100Dataset'
data_root = 'data/mp100/'
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
        ann_file='annotations/mp100_split1_val.json',
        data_prefix=dict(img='images/'),
        mode='val',
        shots=1,
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
        ann_file='annotations/mp100_split1_test.json',
        data_prefix=dict(img='images/'),
        mode='test',
        shots=1,
        num_queries=15,
        num_episodes=200,
        pipeline=support_pipeline,
        query_pipeline=query_pipeline))
val_evaluator = dict(type='EpisodicPCK')
test_evaluator = val_evaluator
