"""The paper's experiments in miniature on the toy SD
(projects/toy_sd/README.md).

Usage:
    python projects/toy_sd/tools/toy_sd_experiments.py [--groups main
        ablations speed] [--split test|val] [--sd data/toy_sd] [--work-dir DIR]
        [--out RESULT.json]

Every row is one ``tools/test.py`` run on the same toy episodes (the toy
test split by default; ``--split val`` for choosing settings), printed as a
table and written to ``--out``:

- ``main``: the word prompts (no fit), PPM (cached and exact maps), PPM from
  the names, PPM+CPT, feature matching and support copy, 1-shot and 5-shot;
- ``ablations``: layer sets (down / mid / up / all ``attn2``), timestep t
  in {0, 10, 50, 200}, lambda_dm 0 vs 1 (exact maps), map objective (mse vs
  normalized_ce), and the paper's own recipe (MSE, lr 2e-3, N(0, 1) init,
  100 steps) with cached and exact maps;
- ``speed``: the speed variants (exact, cached, shared_context, early stop)
  with their run times.
Runs are resumable (a rerun replays finished episodes).
"""
import argparse
import json
import os
import os.path as osp

os.environ.setdefault('HF_HUB_OFFLINE', '1')
from mmppm.engine.cli.arg_types import positive_int  # noqa: E402

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
PPM = 'configs/ppm/ppm_toy-sd_1shot_toy.py'
NAMES = 'configs/ppm/ppm_toy-sd_1shot_toy_name-prompts.py'
CPT = 'configs/cpt/ppm_cpt_toy-sd_toy.py'
FM = 'configs/baselines/feature-matching_toy-sd_1shot_toy.py'
COPY = 'configs/baselines/support-copy_1shot_toy.py'
EXACT = 'model.fitter.map_mode.type=ExactMaps'
PAPER = ('model.head.loss.type=MSEMapLoss', 'model.fitter.lr=0.002',
         'model.fitter.prompt_init_std=1.0', 'model.fitter.steps=100')


def attn2_groups(pretrained: str) -> dict:
    """The UNet's ``attn2`` layer names by part (down / mid / up)."""
    from diffusers import UNet2DConditionModel
    unet = UNet2DConditionModel.from_pretrained(pretrained, subfolder='unet')
    names = [
        n[:-len('.processor')] for n in unet.attn_processors
        if n.endswith('attn2.processor')
    ]
    return {
        part: [n for n in names if n.startswith(prefix)]
        for part, prefix in (('down', 'down_blocks'), ('mid', 'mid_block'),
                             ('up', 'up_blocks'))
    }


def experiment_rows(group: str, sd: str, checkpoint: str):
    from mmppm_analysis.toy_runs import FIVE_SHOT, Row
    if group == 'main':
        one = [
            Row('word prompts (no fit)', NAMES),
            Row('PPM, cached maps', PPM),
            Row('PPM, exact maps', PPM, None, (EXACT, )),
            Row('PPM from the names, cached maps', NAMES, None,
                ('model.fitter.steps=50', )),
            Row('PPM+CPT, cached maps', CPT, checkpoint),
            Row('feature matching (DIFT-style)', FM),
            Row('support copy', COPY),
        ]
        return [r._replace(name=f'{r.name}, 1-shot') for r in one] + [
            r._replace(
                name=f'{r.name}, 5-shot', options=tuple(r.options) + FIVE_SHOT)
            for r in one
        ]
    if group == 'ablations':
        layers = attn2_groups(sd)
        rows = [
            Row(f'layers: {part} ({len(names)} attn2)', PPM, None,
                (f"model.backbone.layers=[{','.join(names)}]", ))
            for part, names in layers.items()
        ]
        rows.append(Row('layers: all (default)', PPM))
        rows += [
            Row(f't = {t}', PPM, None, (f'model.backbone.timestep={t}', ))
            for t in (0, 10, 50, 200)
        ]
        rows += [
            Row(f'lambda_dm = {w}, exact maps', PPM, None,
                (EXACT, f'model.head.loss_dm_weight={w}')) for w in (0.0, 1.0)
        ]
        rows += [
            Row('map objective: mse', PPM, None,
                ('model.head.loss.type=MSEMapLoss', )),
            Row('map objective: normalized_ce (default)', PPM),
            Row("paper's recipe, cached maps", PPM, None, PAPER),
            Row("paper's recipe, exact maps", PPM, None, PAPER + (EXACT, )),
        ]
        return rows
    if group == 'speed':
        return [
            Row('exact', PPM, None, (EXACT, )),
            Row('cached (default)', PPM),
            Row('shared_context', PPM, None,
                ('model.fitter.map_mode.type=SharedContextMaps', )),
            Row('cached + early stop (patience 5, 1 %)', PPM, None,
                ('model.fitter.early_stop.patience=5',
                 'model.fitter.early_stop.min_rel_improvement=0.01')),
        ]
    raise ValueError(f'unknown group {group!r}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--groups',
        nargs='+',
        default=['main', 'ablations', 'speed'],
        choices=['main', 'ablations', 'speed'])
    parser.add_argument('--split', default='test', choices=['test', 'val'])
    parser.add_argument(
        '--sd',
        default='data/toy_sd',
        help='the toy SD folder (model.backbone.pretrained)')
    parser.add_argument('--cpt-checkpoint', default='data/toy_sd/cpt_toy.pth')
    parser.add_argument(
        '--episodes',
        type=positive_int,
        help='episodes per category (default: the config)')
    parser.add_argument(
        '--only',
        nargs='+',
        default=[],
        help='run only the rows whose name contains one of '
        'these (e.g. "exact")')
    parser.add_argument(
        '--exclude',
        nargs='+',
        default=[],
        help='skip the rows whose name contains one of these')
    parser.add_argument(
        '--work-dir', default=osp.join(REPO, 'work_dirs/toy_experiments'))
    parser.add_argument('--out', help='write the results as JSON here')
    args = parser.parse_args(argv)
    os.chdir(REPO)
    from mmppm_analysis.toy_runs import format_table, run_rows
    common = []
    if args.split == 'val':
        common += [
            'test_dataloader.dataset.ann_file='
            'annotations/mp100_split1_val.json',
            'test_dataloader.dataset.mode=val'
        ]
    if args.episodes is not None:
        common.append(f'test_dataloader.dataset.num_episodes={args.episodes}')
    results = {}
    for group in args.groups:
        rows = [  # support copy has no SD to point at
            r._replace(
                options=tuple(r.options) + tuple(common) +
                (() if r.config == COPY else
                 (f'model.backbone.pretrained={args.sd}', )))
            for r in experiment_rows(group, args.sd, args.cpt_checkpoint)
            if (not args.only or any(
                w in r.name
                for w in args.only)) and not any(w in r.name
                                                 for w in args.exclude)
        ]
        results[group] = run_rows(
            rows, osp.join(args.work_dir, f'{args.split}_{group}'))
        print(f'\n{group} ({args.split} split; %):')
        print(format_table(results[group]))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(dict(results, args=vars(args)), f, indent=1)
    return results


if __name__ == '__main__':
    from mmppm.engine.cli import run_tool
    run_tool(main)
