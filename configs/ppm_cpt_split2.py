# PPM + CPT on MP-100 split 2; see ppm_cpt_split1.py.
_base_ = ['ppm_cpt_split1.py']

ann_prefix = 'annotations/mp100_split2'
train_dataloader = dict(dataset=dict(ann_file=f'{ann_prefix}_train.json'))
val_dataloader = dict(dataset=dict(ann_file=f'{ann_prefix}_val.json'))
test_dataloader = dict(dataset=dict(ann_file=f'{ann_prefix}_test.json'))
