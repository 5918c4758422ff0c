# The recommended PPM+CPT on the toy SD's look-alike world, 1-shot: the
# first world's recommended config (beyond the paper: query maps fused with
# feature similarity, the same weight and temperature, chosen on both
# worlds' val categories) with the CPT trained on the look-alike world's
# base categories (data/toy_sd/cpt_toy_lookalike.pth,
# ppm_cpt_toy-sd_lookalike.py), tested on its data seed 0:
#   python tools/dataset_converters/generate_toy_mp100.py \
#       --preset lookalike --seed 0 --out-dir data/toy_lookalike_bench/seed0
#   python tools/test.py \
#       configs/cpt/ppm_cpt_toy-sd_recommended_1shot_lookalike.py
_base_ = ['./ppm_cpt_toy-sd_recommended_1shot.py']

test_dataloader = dict(
    dataset=dict(data_root='data/toy_lookalike_bench/seed0/'))
load_from = 'data/toy_sd/cpt_toy_lookalike.pth'
