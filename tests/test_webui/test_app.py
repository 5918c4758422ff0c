"""The page's callbacks without a browser: messages instead of traces,
click coordinates, bad uploads, the run summary."""
import numpy as np
import pytest

gr = pytest.importorskip(
    'gradio',
    reason='the webui extra is not installed '
    '(tools/install.sh installs requirements/webui.txt)')

from mmppm.webui import SupportSet  # noqa: E402
from mmppm.webui.app import add_support_images  # noqa: E402
from mmppm.webui.app import (PageError, click, click_position, page_errors,
                             query_list, run_summary)


def test_page_errors_turn_exceptions_into_one_message():

    from mmppm.utils.errors import UserError

    @page_errors
    def user_mistake():
        raise UserError('Place at least one keypoint')

    @page_errors
    def bug():
        raise RuntimeError('deep\ninside')

    @page_errors
    def bug_of_a_user_looking_type():
        raise ValueError('cannot reshape array of size 3')

    with pytest.raises(gr.Error, match='Place at least one keypoint'):
        user_mistake()
    with pytest.raises(gr.Error) as info:
        bug()
    assert str(info.value.message) == (
        'Internal error (RuntimeError: deep); the traceback is in the server '
        'log (the terminal running demo/webui.py)')
    with pytest.raises(gr.Error) as info:
        bug_of_a_user_looking_type()
    assert str(info.value.message).startswith('Internal error (ValueError')


def test_click_position_undoes_the_display_zoom():
    sset = SupportSet()
    sset.add_image(np.zeros((120, 240, 3), np.uint8), 'a.png')  # zoom 2
    assert click_position(sset, 0, [0, 0]) == (-0.25, -0.25)
    assert click_position(sset, 0, [21, 41]) == (10.25, 20.25)
    with pytest.raises(PageError, match='Upload a support image'):
        click_position(sset, None, [1, 1])


def test_click_modes():
    sset = SupportSet()
    sset.add_image(np.zeros((50, 50, 3), np.uint8), 'a.png')
    assert click(sset, 0, 'place the next keypoint', 0, 3, 4)[0] == 0
    assert click(sset, 0, 'place the next keypoint', 0, 5, 6)[0] == 1
    k, msg = click(sset, 0, 'move the selected keypoint', 0, 7, 8)
    assert k == 0 and 'moved' in msg
    assert sset.images[0].keypoints.tolist() == [[7, 8], [5, 6]]
    assert 'opposite corner' in click(sset, 0, 'set a box corner (two '
                                      'clicks)', 1, 1, 1)[1]
    click(sset, 0, 'set a box corner (two clicks)', 1, 40, 30)
    assert sset.images[0].bbox == [1, 1, 40, 30]


def test_bad_uploads_are_named(tmp_path):
    text = tmp_path / 'notes.png'
    text.write_text('not an image')
    with pytest.raises(PageError, match='notes.png is not an image'):
        add_support_images(SupportSet(), [str(text)])
    with pytest.raises(PageError, match='No file was uploaded'):
        add_support_images(SupportSet(), [])
    with pytest.raises(PageError, match='at least one query image'):
        query_list(None, [])


def test_run_summary_names_keypoints_not_learnt():
    out = dict(
        seconds=2.04,
        fit=[
            dict(keypoint=0, fitted=True),
            dict(keypoint=1, fitted=False),
            dict(keypoint=2, fitted=None)
        ])
    text = run_summary(out, 2)
    assert text.startswith('Done in 2.0 s: 2 queries, 1/2 keypoints fitted')
    assert 'Not learnt: keypoint(s) 1 ' in text


def test_a_support_set_file_too_large_is_refused(tmp_path, monkeypatch):
    from mmppm.webui import app
    path = tmp_path / 'support_set.json'
    path.write_text('{}' + ' ' * 100)
    monkeypatch.setattr(app, 'MAX_SUPPORT_SET_BYTES', 50)
    with pytest.raises(
            app.PageError,
            match='support_set.json is 0 MB, '
            'above the 0 MB a support set may have'):
        app.load_support_file(str(path))


def test_uploads_larger_than_the_pixel_limit_say_so(tmp_path, monkeypatch):
    import cv2
    import numpy as np

    from mmppm.webui import app
    path = tmp_path / 'huge.png'
    cv2.imwrite(str(path), np.zeros((50, 80, 3), np.uint8))
    monkeypatch.setenv('MMPPM_MAX_IMAGE_PIXELS', '100')
    with pytest.raises(
            app.PageError,
            match=r'image huge.png is 80 x 50 = '
            r'0 megapixels, above the limit'):
        app.read_upload(str(path))


def test_a_port_in_use_fails_before_anything_loads_or_prints(
        capsys, load_tool):
    import socket
    demo = load_tool('demo/webui.py')
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(
                SystemExit,
                match=f'cannot serve on 127.0.0.1:'
                f'{port} .*choose another port'):
            demo.main(
                ['configs/ppm/ppm_toy-sd_1shot_toy.py', '--port',
                 str(port)])
    assert 'mmppm web page: http' not in capsys.readouterr().out


def test_default_query_picks_are_the_toy_test_images(monkeypatch, tmp_path,
                                                     load_tool):
    import os.path as osp
    demo = load_tool('demo/webui.py')
    monkeypatch.setattr(demo, 'TOY_DATA', str(tmp_path / 'toy'))
    picks = demo.default_examples()
    cats = {osp.basename(osp.dirname(p)) for p in picks}
    assert cats == {'toy_cat80', 'toy_cat81', 'toy_cat82'}  # test split
    assert all(osp.isfile(p) for p in picks)


def test_session_state_is_dropped_an_hour_after_its_last_use():
    from mmppm.webui import app
    page = app.build_app(None)
    states = [b for b in page.blocks.values() if isinstance(b, gr.State)]
    assert states and all(s.time_to_live == app.SESSION_TTL_S == 3600
                          for s in states)
