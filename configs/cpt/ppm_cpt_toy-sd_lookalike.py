# PPM + CPT with the trained toy SD on the look-alike toy world
# (docs/toy_benchmark.md, "The look-alike world"): the recipe of
# ppm_cpt_toy-sd_toy.py (the shipped data/toy_sd/cpt_toy.pth) trained on the
# 70 base categories of the look-alike world's data seed 0 and validated on
# its 10 val categories; shipped as data/toy_sd/cpt_toy_lookalike.pth.
#   python tools/dataset_converters/generate_toy_mp100.py \
#       --preset lookalike --seed 0 --out-dir data/toy_lookalike_bench/seed0
#   python tools/train.py configs/cpt/ppm_cpt_toy-sd_lookalike.py
_base_ = ['./ppm_cpt_toy-sd_toy.py']

bench_root = 'data/toy_lookalike_bench/seed0/'
train_dataloader = dict(dataset=dict(data_root=bench_root))
val_dataloader = dict(dataset=dict(data_root=bench_root))
