"""The page's callbacks without a browser: messages instead of traces,
click coordinates, bad uploads, the run summary."""
import numpy as np
import pytest

gr = pytest.importorskip('gradio', reason='the webui extra is not installed '
                         '(tools/install.sh installs requirements/webui.txt)')

from mmppm.webui import SupportSet  # noqa: E402
from mmppm.webui.app import (PageError, add_support_images,  # noqa: E402
                             click, click_position, page_errors, query_list,
                             run_summary)


def test_page_errors_turn_exceptions_into_one_message():

    @page_errors
    def user_mistake():
        raise ValueError('Place at least one keypoint')

    @page_errors
    def bug():
        raise RuntimeError('deep\ninside')

    with pytest.raises(gr.Error, match='Place at least one keypoint'):
        user_mistake()
    with pytest.raises(gr.Error) as info:
        bug()
    assert str(info.value.message) == ('RuntimeError: deep (details in the '
                                       'server log)')


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
    out = dict(seconds=2.04, fit=[dict(keypoint=0, fitted=True),
                                  dict(keypoint=1, fitted=False),
                                  dict(keypoint=2, fitted=None)])
    text = run_summary(out, 2)
    assert text.startswith('Done in 2.0 s: 2 queries, 1/2 keypoints fitted')
    assert 'Not learnt: keypoint(s) 1 ' in text
