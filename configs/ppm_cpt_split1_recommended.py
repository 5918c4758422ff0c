# PPM + CPT on MP-100 split 1 with the toy benchmark's recommended test-time
# recipe (docs/cpt.md, "PPM+CPT against feature matching"): the CPT of
# ppm_cpt_split1.py (train with that config; this one changes only the
# test) and its query maps fused with the support keypoints' UNet-feature
# similarity, then with the support's layout, before the argmax -- BEYOND
# THE PAPER (_base_/models/fusion_sd15.py; not measured on SD 1.5 /
# MP-100, whose instances may face either way: the layout prior never
# mirrors, docs/method.md).
#   bash tools/dist_train.sh configs/ppm_cpt_split1.py 2
#   python tools/test.py configs/ppm_cpt_split1_recommended.py \
#       work_dirs/ppm_cpt_split1/best.pth
_base_ = ['ppm_cpt_split1.py', '_base_/models/fusion_sd15.py']

model = dict(fusion=_base_.fusion)
