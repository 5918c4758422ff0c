# MP-100 training instances for CPT (one sample = one annotated instance; its
# keypoints index the base prompts through the `keypoint_offset` metainfo).
# Crop as at test time, plus random scale +-15% and rotation (factor 15 deg);
# no flips (keypoint semantics differ per category); no shift.
train_crop_size = (256, 256)  # maps and targets live at the crop size
train_heatmap_sigma = 2.0  # Gaussian target sigma, crop pixels

train_codec = dict(
    type='MSRAHeatmap',
    input_size=train_crop_size,
    heatmap_size=train_crop_size,
    sigma=train_heatmap_sigma)

train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', padding=1.25),
    dict(
        type='RandomBBoxTransform',
        shift_prob=0,
        scale_factor=(0.85, 1.15),
        rotate_factor=15),
    dict(type='TopdownAffine', input_size=train_crop_size),
    dict(type='GenerateTarget', encoder=train_codec),
    dict(type='PackPoseInputs'),
]

train_dataloader = dict(
    batch_size=4,  # per GPU (process)
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(
        type='MP100Dataset',
        data_root='data/mp100/',
        ann_file='annotations/mp100_split1_train.json',
        data_prefix=dict(img='images/'),
        mode='train',
        pipeline=train_pipeline))
