# The recommended PPM+CPT on the toy SD, 5-shot: the 1-shot recommended
# config (beyond the paper: query maps fused with feature similarity) on
# 5-shot episodes (docs/cpt.md, "PPM+CPT against feature matching").
#   python tools/test.py configs/cpt/ppm_cpt_toy-sd_recommended_5shot.py
_base_ = ['./ppm_cpt_toy-sd_recommended_1shot.py']

test_dataloader = dict(dataset=dict(shots=5))
