# Copyright (c) mmppm contributors. All rights reserved.
"""demo/cape_demo.py on toy data: the pictures it writes, its errors."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmppm.testing.ppm_configs import small_config, write_config


@pytest.fixture(scope='module')
def demo(load_tool):
    return load_tool('demo/cape_demo.py')


@pytest.fixture(scope='module')
def demo_args(random_sd_dir, toy_data, tmp_path_factory):
    cfg = write_config(
        small_config(random_sd_dir, toy_data),
        tmp_path_factory.mktemp('cfg') / 'small.py')
    img_dir = osp.join(toy_data, 'images', 'toy_cat80')
    return dict(
        cfg=cfg,
        img_dir=img_dir,
        support=osp.join(img_dir, 'toy_cat80_0.jpg'),
        ann=osp.join(toy_data, 'annotations', 'mp100_split1_test.json'))


def test_demo_writes_pictures(demo, demo_args, one_thread, tmp_path):
    a = demo_args
    queries = [osp.join(a['img_dir'], f'toy_cat80_{i}.jpg') for i in (1, 2)]
    out = tmp_path / 'out'
    demo.main([
        '--config', a['cfg'], '--support', a['support'], '--support-keypoints',
        a['ann'], '--query', *queries, '--save-dir',
        str(out), '--show-maps', '--skeleton', '0-1', '1-2'
    ])
    preds = json.loads((out / 'predictions.json').read_text())
    assert preds['skeleton'] == [[0, 1], [1, 2]]
    for query, item in zip(queries, preds['queries']):
        name = osp.splitext(osp.basename(query))[0]
        pred = cv2.imread(str(out / f'{name}_pred.png'))
        assert pred.shape == cv2.imread(query).shape  # drawn on the query
        maps = cv2.imread(str(out / f'{name}_maps.png'))
        num_kpts = len(item['keypoints'])
        ncols = int(np.ceil(np.sqrt(num_kpts)))
        assert maps.shape[1] == ncols * 160
        assert len(item['scores']) == num_kpts


def test_demo_npy_keypoints_and_query_folder(demo, demo_args, one_thread,
                                             tmp_path):
    kpts = tmp_path / 'support.npy'
    np.save(kpts, np.array([[30., 40., 1.], [60., 80., 1.], [90., 50., 0.]]))
    out = tmp_path / 'out'
    summary = demo.main([
        '--config', demo_args['cfg'], '--support', demo_args['support'],
        '--support-keypoints',
        str(kpts), '--query', demo_args['img_dir'], '--save-dir',
        str(out)
    ])
    assert len(summary) == 6  # every image of the folder
    assert all(len(s['keypoints']) == 3 for s in summary)
    assert len(list(out.glob('*_pred.png'))) == 6
    assert not list(out.glob('*_maps.png'))


@pytest.mark.parametrize('case', ['missing_query', 'mismatch', 'not_image'])
def test_demo_errors_are_one_line(demo, demo_args, tmp_path, case):
    a = demo_args
    kpts = tmp_path / 'k.txt'
    np.savetxt(kpts, np.ones((2, 4, 2)).reshape(-1, 2))  # [8, 2] rows
    bad = tmp_path / 'bad.png'
    bad.write_text('no image')
    argv = ['--config', a['cfg'], '--save-dir', str(tmp_path / 'o')]
    argv += dict(
        missing_query=[
            '--support', a['support'], '--support-keypoints', a['ann'],
            '--query',
            str(tmp_path / 'nope.jpg')
        ],
        # the JSON holds many annotations, none for a copied file name
        mismatch=[
            '--support',
            str(bad), '--support-keypoints', a['ann'], '--query', a['support']
        ],
        not_image=[
            '--support',
            str(bad), '--support-keypoints',
            str(kpts), '--query', a['support']
        ])[case]
    with pytest.raises(SystemExit) as e:
        demo.main(argv)
    msg = str(e.value.code)
    assert msg.startswith('error: ') and '\n' not in msg
    assert dict(
        missing_query='nope.jpg',
        mismatch='keypoint annotations',
        not_image='not a readable image')[case] in msg


def test_save_dir_is_checked_before_the_run(demo, demo_args, tmp_path,
                                            monkeypatch):
    """--save-dir naming a file failed with FileExistsError after the whole
    run; now one line before any model is built."""
    a = demo_args
    taken = tmp_path / 'a_file'
    taken.write_text('mine')
    built = []
    monkeypatch.setattr('mmppm.apis.init_cape_model',
                        lambda *x, **k: built.append(1))
    with pytest.raises(SystemExit) as e:
        demo.main([
            '--config', a['cfg'], '--support', a['support'],
            '--support-keypoints', a['ann'], '--query', a['support'],
            '--save-dir',
            str(taken)
        ])
    assert str(e.value.code) == (f'error: --save-dir {taken} is a file, not '
                                 'a folder: choose another path')
    assert not built and taken.read_text() == 'mine'


def test_colliding_query_names_get_distinct_outputs(tmp_path):
    from mmppm.utils.file_names import unique_stems
    assert unique_stems(['x/a.jpg', 'y/a.jpg',
                         'a_2.jpg']) == ['a', 'a_3', 'a_2']
    assert unique_stems(['a_2.jpg', 'a.jpg', 'a.png']) == ['a_2', 'a', 'a_3']
    names = unique_stems(['b.jpg', 'b.jpg', 'b_2.jpg', 'b_3.jpg', 'b.jpg'])
    assert len(set(names)) == 5 and names[2:4] == ['b_2', 'b_3']


def test_a_missing_support_image_is_named_as_such(demo, demo_args, tmp_path):
    """It was reported as 'has 60 keypoint annotations for 1 support
    images' (the COCO matching ran first)."""
    a = demo_args
    missing = tmp_path / 'nope.jpg'
    with pytest.raises(SystemExit) as e:
        demo.main([
            '--config', a['cfg'], '--support',
            str(missing), '--support-keypoints', a['ann'], '--query',
            a['support'], '--save-dir',
            str(tmp_path / 'o')
        ])
    assert str(e.value.code) == f'error: support image 0 not found: {missing}'


@pytest.mark.parametrize('option, message', [
    ('test_dataloader.dataset.pipeline.3.encoder.sigma=-2',
     'error: test_dataloader.dataset.pipeline.3.encoder.sigma=-2 is not '
     'allowed: it must be a finite number > 0'),
    ('test_dataloader.dataset.pipeline.3.encoder.sigma=nan',
     'error: test_dataloader.dataset.pipeline.3.encoder.sigma=nan is not '
     'allowed'),
    ('test_dataloader.dataset.pipeline.2.input_size=(0,0)',
     'error: test_dataloader.dataset.pipeline.2.input_size=(0, 0) is not '
     'allowed'),
    ('test_dataloaderr.batch_size=1',
     "error: --cfg-options test_dataloaderr.batch_size: the config has no "
     "key 'test_dataloaderr'; did you mean 'test_dataloader'?"),
    ('model.backbone.torch_dtype=float16',
     "error: model.backbone.torch_dtype='float16' is not allowed: it must "
     "be 'float32' (float16 / bfloat16 needs a CUDA GPU"),
    ('model.fitter.stepz=3',
     "error: model.fitter (PromptFitter) has no argument 'stepz'"),
])
def test_demo_checks_cfg_options_as_the_tools_do(demo, demo_args, tmp_path,
                                                 monkeypatch, option, message):
    """Issue 35 case 14: demo --cfg-options that tools/test.py refuses were
    accepted silently or ended in tracebacks; the demo (like the API and
    the web page, through init_cape_model) now runs the tools' check, before
    the model is built."""
    from mmppm.utils import value_checks
    monkeypatch.setattr(value_checks, 'half_precision_available',
                        lambda: False)
    a = demo_args
    with pytest.raises(SystemExit) as e:
        demo.main([
            '--config', a['cfg'], '--support', a['support'],
            '--support-keypoints', a['ann'], '--query', a['support'],
            '--save-dir',
            str(tmp_path / 'out'), '--cfg-options', option
        ])
    line = str(e.value.code)
    assert line.startswith(message) and '\n' not in line, line
    assert not (tmp_path / 'out').exists() or not list(
        (tmp_path / 'out').iterdir())
