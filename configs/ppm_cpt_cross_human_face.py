# PPM + CPT, cross super-category: 'human_face' held out (test), CPT on six
# super-categories, validation on one (insect by default), 1-shot (paper
# Table 1). Build the annotation files first (docs/dataset_prep.md):
#   python tools/dataset_converters/build_cross_supercategory.py \
#       --ann-dir data/mp100/annotations --held-out human_face
_base_ = ['ppm_cpt_split1.py']

ann_prefix = 'annotations/mp100_cross_human_face'
train_dataloader = dict(dataset=dict(ann_file=f'{ann_prefix}_train.json'))
val_dataloader = dict(dataset=dict(ann_file=f'{ann_prefix}_val.json'))
test_dataloader = dict(dataset=dict(ann_file=f'{ann_prefix}_test.json'))
