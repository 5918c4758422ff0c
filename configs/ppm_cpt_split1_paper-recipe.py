# PPM + CPT on MP-100 split 1 with the paper's exact recipe (section 4):
# Adam lr 5e-4 for P_bar, Phi and the base prompts P^k alike, batch 4 x 2
# GPUs. configs/ppm_cpt_split1.py departs from it in one place (P^k at the
# test-time fit's lr), for the reason in docs/cpt.md.
#   bash tools/dist_train.sh configs/ppm_cpt_split1_paper-recipe.py 2
_base_ = ['ppm_cpt_split1.py']

optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', optimizer=dict(type='Adam', lr=5e-4))
