# Copyright (c) mmppm contributors. All rights reserved.
"""The toy benchmark: its data preset, its plan and a resumed run."""
import json
import os
import os.path as osp

import pytest
from mmppm_analysis import toy_benchmark as tb

from mmppm.datasets import generate_toy_mp100
from mmppm.utils.atomic_io import atomic_write_json
from mmppm.utils.errors import UserError


def test_mp100_preset_writes_one_split_of_mp100s_shape(tmp_path):
    files = generate_toy_mp100(tmp_path, seed=3, preset='mp100')
    names, counts = {}, {}
    for split, path in files.items():
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        names[split] = {c['name'] for c in data['categories']}
        counts[split] = len(data['categories'])
        per_cat = {}
        for ann in data['annotations']:
            per_cat[ann['category_id']] = per_cat.get(ann['category_id'],
                                                      0) + 1
            assert 8 <= len(ann['keypoints']) // 3 <= 20
        assert set(per_cat.values()) == {20}
    assert counts == dict(train=70, val=10, test=20)
    assert not (names['train'] & names['val'] or names['train'] & names['test']
                or names['val'] & names['test'])


def test_unknown_preset_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="unknown toy preset 'mp101'"):
        generate_toy_mp100(tmp_path, preset='mp101')


def test_plan_runs_every_row_per_seed_and_the_exact_row_last():
    runs = tb.plan_runs([0, 1], [1, 5], ['ppm_exact', 'ppm', 'copy'], {
        1: 4,
        5: 2
    },
                        15,
                        exact_seeds=[1],
                        exact_shots=[1])
    assert [(r.seed, r.shots, r.key) for r in runs] == [(0, 1, 'ppm'),
                                                        (0, 1, 'copy'),
                                                        (1, 1, 'ppm'),
                                                        (1, 1, 'copy'),
                                                        (0, 5, 'ppm'),
                                                        (0, 5, 'copy'),
                                                        (1, 5, 'ppm'),
                                                        (1, 5, 'copy'),
                                                        (1, 1, 'ppm_exact')]
    assert {r.episodes for r in runs if r.shots == 5} == {2}
    # exact maps on fewer episodes: a cached run on the same episodes pairs it
    runs = tb.plan_runs([0], [1], ['ppm', 'ppm_exact'], {1: 4},
                        15, [0], [1],
                        exact_episodes=2)
    assert [(r.key, r.episodes) for r in runs] == [('ppm', 4), ('ppm', 2),
                                                   ('ppm_exact', 2)]
    # the speed variants run on the exact row's seeds, shots and episodes,
    # before it, whatever order they are asked in
    runs = tb.plan_runs([0, 1], [1, 5], ['ppm_exact', 'ppm_warm10', 'ppm'], {
        1: 4,
        5: 2
    },
                        15, [0], [1],
                        exact_episodes=2)
    assert [(r.seed, r.shots, r.key, r.episodes) for r in runs
            if r.key != 'ppm'] == [(0, 1, 'ppm_warm10', 2),
                                   (0, 1, 'ppm_exact', 2)]
    assert tb.plan_runs([0], [1], ['ppm_shared'], {1: 4}, 15, [0], [1],
                        2) == [tb.Run(0, 1, 'ppm_shared', 2, 15)]
    with pytest.raises(UserError, match="unknown benchmark row 'pmp'"):
        tb.plan_runs([0], [1], ['pmp'], {1: 1}, 3, [], [])


def test_run_command_points_every_row_at_the_seed_and_its_outputs():
    run = tb.Run(seed=2, shots=5, key='cpt', episodes=3, queries=7)
    cmd = tb.run_command(run, 'wd', 'dd', 'my_sd', 'my.pth')
    assert cmd[2:4] == ['configs/cpt/ppm_cpt_toy-sd_toy.py', 'my.pth']
    for option in ('test_dataloader.dataset.data_root=dd/seed2/',
                   'test_dataloader.dataset.num_episodes=3',
                   'test_dataloader.dataset.num_queries=7',
                   'test_dataloader.dataset.shots=5',
                   'model.backbone.pretrained=my_sd',
                   'test_evaluator.outfile_prefix=wd/seed2/5shot/cpt_e3_q7/'
                   'results'):
        assert option in cmd
    copy = tb.run_command(tb.Run(0, 1, 'copy', 1, 3), 'wd', 'dd', 'sd', 'c')
    assert not any(o.startswith('model.backbone') for o in copy)


def test_missing_inputs_are_named_before_any_run(tmp_path):
    with pytest.raises(UserError, match='no diffusion model at .*--sd'):
        tb.check_inputs(str(tmp_path), 'x.pth', ['ppm'])
    tb.check_inputs(str(tmp_path), 'x.pth', ['copy'])  # no SD needed
    with pytest.raises(UserError, match='no CPT checkpoint at x.pth'):
        tb.check_inputs('data/toy_sd', 'x.pth', ['cpt'])


def test_cpt_study_rows_carry_their_own_checkpoints(monkeypatch):
    """--cpt-checkpoint is the main table's cpt row's; each CPT study row
    tests its own shipped checkpoint, the untrained-Phi row none."""
    paper = tb.run_command(
        tb.Run(1, 1, 'cpt_paper', 4, 15), 'wd', 'dd', 'sd', 'my.pth')
    assert paper[2:4] == [tb.CPT_PAPER, 'data/toy_sd/cpt_toy_paper.pth']
    phi0 = tb.run_command(
        tb.Run(1, 1, 'phi0', 4, 15), 'wd', 'dd', 'sd', 'my.pth')
    assert phi0[2:4] == [tb.CPT_PAPER, '--work-dir']
    assert 'model.test_cfg.allow_untrained_prompt_encoder=True' in phi0
    # a missing study checkpoint is named before any run
    monkeypatch.setitem(tb.ROWS, 'cpt_paper',
                        tb.ROWS['cpt_paper']._replace(checkpoint='gone.pth'))
    with pytest.raises(
            UserError, match='no checkpoint at gone.pth '
            r'\(row cpt_paper\)'):
        tb.check_inputs('data/toy_sd', 'x.pth', ['ppm', 'cpt_paper'])


def test_replay_summary_reads_the_test_loops_closing_line():
    console = ('...\nResumableTestLoop: 0 batches computed, 6 replayed from '
               'the cache.\n')
    assert tb.replay_summary(console) == '0 computed, 6 replayed'
    assert tb.replay_summary('nothing') == ''


def test_tool_runs_summarises_and_resumes_without_recomputing(
        load_tool, tmp_path, capsys):
    tool = load_tool('analysis/toy_benchmark.py')
    argv = [
        '--preset', 'toy', '--seeds', '1', '--shots', '1', '--rows', 'copy',
        '--episodes-1shot', '2', '--queries', '3', '--bootstrap', '200',
        '--data-dir',
        str(tmp_path / 'data'), '--work-dir',
        str(tmp_path / 'work')
    ]
    first = tool.main(argv)
    out = capsys.readouterr().out
    assert '[1/1]' in out and '6 computed, 0 replayed' in out
    row, = first['rows']
    assert row['key'] == 'copy' and row['seeds'] == [1]
    assert row['episodes'] == 6  # 3 test categories x 2 episodes
    assert row['low'] <= row['mean'] <= row['high']
    # the metric's per-query file carries every query
    with open(
            tmp_path / 'work/seed1/1shot/copy_e2_q3/results.queries.json',
            encoding='utf-8') as f:
        assert len(json.load(f)['queries']) == 18

    again = tool.main(argv)
    out = capsys.readouterr().out
    assert out.count('0 computed, 6 replayed') == 1
    assert again['rows'] == first['rows']
    assert osp.isfile(tmp_path / 'work' / 'benchmark.md')


def _write_run(work_dir, run, scores):
    """A finished run's per-query file: one query per episode, its PCK@0.2
    ``scores[category][index]``."""
    queries = [
        dict(
            category_name=cat,
            category_id=i,
            episode_id=10 * i + e,
            pck=[0.0, 0.0, 0.0, v, 0.0])
        for i, (cat, vals) in enumerate(scores.items())
        for e, v in enumerate(vals)
    ]
    path = osp.join(tb.run_dir(str(work_dir), run), 'results.queries.json')
    from mmppm.utils.atomic_io import atomic_write_json
    atomic_write_json(path,
                      dict(thrs=[0.05, 0.1, 0.15, 0.2, 0.25], queries=queries))


def test_summary_pairs_each_claim_on_the_same_episodes(tmp_path):
    ppm4 = {'a': [0.5, 0.6, 0.7, 0.8], 'b': [0.2, 0.3, 0.4, 0.5]}
    ppm2 = {'a': [0.4, 0.9], 'b': [0.1, 0.6]}  # other draws (fewer episodes)
    runs = tb.plan_runs([0], [1], ['ppm', 'cpt', 'ppm_exact'], {1: 4},
                        15, [0], [1],
                        exact_episodes=2)
    data = {
        ('ppm', 4): ppm4,
        ('ppm', 2): ppm2,
        ('cpt', 4): {
            c: [v - 0.1 for v in s]
            for c, s in ppm4.items()
        },
        ('ppm_exact', 2): {
            c: [v + 0.05 for v in s]
            for c, s in ppm2.items()
        }
    }
    for r in runs:
        _write_run(tmp_path, r, data[r.key, r.episodes])
    summary = tb.summarise(runs, str(tmp_path), num_samples=200)
    claims = {c['name']: c for c in summary['claims']}
    exact = claims['exact - cached maps, 1-shot']
    assert (exact['mean'], exact['low'], exact['high']) == pytest.approx(
        (0.05, 0.05, 0.05))
    assert exact['verdict'] == 'holds' and exact['episodes'] == 4
    cpt = claims['PPM+CPT - PPM, 1-shot']
    assert cpt['mean'] == pytest.approx(-0.1) and cpt['episodes'] == 8
    assert cpt['verdict'] == 'does not hold'
    assert set(cpt['per_category']) == {'seed0/a', 'seed0/b'}
    rows = {(r['key'], r['episodes']): r for r in summary['rows']}
    assert rows['ppm', 8]['mean'] == pytest.approx(0.5)
    assert rows['ppm', 4]['mean'] == pytest.approx(0.5)
    assert '| PPM (cached maps) | 1 | 50.0 [' in tb.format_markdown(summary)


def test_shot_counts_pair_on_the_episode_counts_all_seeds_share():
    a = {2: {0: {}, 1: {}, 2: {}}}  # 5-shot: 2 episodes, three seeds
    b = {4: {0: {}, 1: {}, 2: {}}, 2: {0: {}}}  # 1-shot: + an exact pair
    assert tb._pick(a, b) == (2, 4)
    exact = {2: {0: {}}}
    assert tb._pick(exact, b) == (2, 2)  # the same episodes


def test_a_report_of_runs_never_made_names_the_missing_run(tmp_path):
    runs = tb.plan_runs([7], [1], ['ppm'], {1: 4}, 15, [], [])
    with pytest.raises(
            UserError,
            match='no results for seed 7, 1-shot, ppm .*without '
            '--report-only'):
        tb.summarise(runs, str(tmp_path), num_samples=10)


def test_swap_rate_and_kinds_are_pooled_over_seeds(tmp_path):
    """Two seeds' per-query twin and kind counts pool into one swap rate,
    one either-twin rate and PCK per kind; a row without them has none."""
    from mmppm.utils.atomic_io import atomic_write_json
    runs = tb.plan_runs([0, 1], [1], ['ppm', 'fm'], {1: 1}, 15, [], [])
    per_seed = {
        0: ([1, 4, 2], {
            'twin': [2, 4]
        }),
        1: ([3, 4, 0], {
            'twin': [0, 4]
        })
    }
    for r in runs:
        query = dict(
            category_name='a',
            category_id=1,
            episode_id=0,
            pck=[0, 0, 0, 0.5, 0])
        if r.key == 'ppm':
            swaps, kinds = per_seed[r.seed]
            query.update(swaps=swaps, kinds=kinds)
        atomic_write_json(
            osp.join(tb.run_dir(str(tmp_path), r), 'results.queries.json'),
            dict(thrs=[0.05, 0.1, 0.15, 0.2, 0.25], queries=[query]))
    summary = tb.summarise(runs, str(tmp_path), num_samples=20)
    rows = {r['key']: r for r in summary['rows']}
    assert rows['ppm']['swap_rate'] == pytest.approx(4 / 8)
    assert rows['ppm']['either_twin'] == pytest.approx(6 / 8)
    assert rows['ppm']['kinds'] == {'twin': pytest.approx(2 / 8)}
    assert 'swap_rate' not in rows['fm'] and 'kinds' not in rows['fm']
    md = tb.format_markdown(summary)
    assert '| PPM (cached maps) | 1 | 50.0 | 75.0 | 25.0 |' in md
    assert 'feature matching (DIFT-style) | 1 | -' not in md


def _copy_argv(tmp_path, *extra):
    return [
        '--preset', 'toy', '--seeds', '1', '--shots', '1', '--rows', 'copy',
        'cpt', '--episodes-1shot', '1', '--queries', '2', '--bootstrap', '50',
        '--data-dir',
        str(tmp_path / 'data'), '--work-dir',
        str(tmp_path / 'work'), *extra
    ]


def test_a_report_refuses_rows_whose_inputs_changed(load_tool, tmp_path):
    """Each run records the digests of its config, checkpoint, SD folder
    and annotations; --report-only with another checkpoint at the same
    path, or a run without that record, is one line, not stale rows."""
    tool = load_tool('analysis/toy_benchmark.py')
    ckpt = tmp_path / 'cpt.pth'
    ckpt.write_bytes(open('data/toy_sd/cpt_toy.pth', 'rb').read())
    generate_toy_mp100(
        tb.data_root(str(tmp_path / 'data'), 1), seed=1, preset='toy')
    runs = tb.plan_runs([1], [1], ['copy', 'cpt'], {1: 1}, 2, [], [])
    for r in runs:  # finished runs as execute() leaves them
        _write_run(tmp_path / 'work', r, {'a': [0.5]})
        atomic_write_json(
            osp.join(tb.run_dir(str(tmp_path / 'work'), r), 'inputs.json'),
            tb.run_inputs(r, str(tmp_path / 'data'),
                          osp.abspath('data/toy_sd'), str(ckpt)))
    report = _copy_argv(tmp_path, '--cpt-checkpoint', str(ckpt),
                        '--report-only')
    assert tool.main(report)['rows']
    ckpt.write_bytes(ckpt.read_bytes() + b'\0')  # replaced in place
    with pytest.raises(
            UserError,
            match='seed 1, 1-shot, cpt was measured with another '
            'checkpoint than the one given now: run the benchmark without '
            '--report-only'):
        tool.main(report)
    os.remove(
        osp.join(tb.run_dir(str(tmp_path / 'work'), runs[0]), 'inputs.json'))
    with pytest.raises(UserError, match='copy: no record of the inputs'):
        tool.main(report)


def test_a_cut_results_file_is_named(tmp_path):
    run = tb.Run(0, 1, 'copy', 1, 2)
    path = osp.join(tb.run_dir(str(tmp_path), run), 'results.queries.json')
    os.makedirs(osp.dirname(path))
    with open(path, 'w') as f:
        f.write('{"thrs": [0.2], "queries": [{"pck"')
    with pytest.raises(UserError, match=f'{path} is damaged .*delete it'):
        tb.load_scores(run, str(tmp_path))


def test_no_run_starts_after_a_failure_or_ctrl_c(monkeypatch, tmp_path):
    runs = tb.plan_runs([0, 1, 2], [1], ['copy'], {1: 1}, 2, [], [])
    for error in (KeyboardInterrupt, RuntimeError):
        started = []

        def execute(run, *args):
            started.append(run)
            raise error('stop')

        monkeypatch.setattr(tb, 'execute', execute)
        monkeypatch.setattr(tb, 'run_inputs', lambda *a: {})
        with pytest.raises(error):
            tb.run_all(runs, str(tmp_path), 'dd', 'sd', 'c.pth', jobs=1)
        assert len(started) == 1


def test_paths_and_seeds_are_checked_before_any_run(load_tool, tmp_path,
                                                    monkeypatch, capsys):
    tool = load_tool('analysis/toy_benchmark.py')
    with pytest.raises(SystemExit):
        tool.parse_args(['--seeds', '-1'])
    assert "--seeds: '-1' is not allowed" in capsys.readouterr().err
    afile = tmp_path / 'afile'
    afile.write_text('x')
    for option in ('--work-dir', '--data-dir'):
        with pytest.raises(UserError, match=f'{option}'):
            tool.main(['--rows', 'copy', option, str(afile)])
    # a damaged CPT checkpoint: named before any run starts
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(open('data/toy_sd/cpt_toy.pth', 'rb').read()[:1000])
    with pytest.raises(
            UserError, match='bad.pth .row cpt. is not a '
            'loadable checkpoint'):
        tb.check_inputs('data/toy_sd', str(bad), ['cpt'])
    # relative paths are the current folder's, defaults the repository's
    monkeypatch.chdir(tmp_path)
    args = tool.parse_args(['--work-dir', 'w', '--cpt-checkpoint', 'c.pth'])
    tool.resolve_paths(args)
    assert args.work_dir == str(tmp_path / 'w')
    assert args.cpt_checkpoint == str(tmp_path / 'c.pth')
    # inside the repository: relative to it, from wherever it is given
    assert args.sd == 'data/toy_sd'
    monkeypatch.chdir(osp.join(tool.REPO, 'data'))
    args = tool.parse_args(['--work-dir', '../work_dirs/b'])
    tool.resolve_paths(args)
    assert args.work_dir == osp.join('work_dirs', 'b')
