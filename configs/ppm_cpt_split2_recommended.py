# PPM + CPT on MP-100 split 2 with the recommended test-time recipe; see
# ppm_cpt_split1_recommended.py (beyond the paper; not measured on MP-100).
#   python tools/test.py configs/ppm_cpt_split2_recommended.py \
#       work_dirs/ppm_cpt_split2/best.pth
_base_ = ['ppm_cpt_split2.py', '_base_/models/fusion_sd15.py']

model = dict(fusion=_base_.fusion)
