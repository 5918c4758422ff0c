"""What a web-page run returns: the fit table and the COCO predictions."""
import numpy as np

from mmppm.webui import SupportSet, fit_rows, fit_table, predictions_to_coco


def test_fit_rows_use_the_worst_visible_support():
    # crop 128 px, object = crop / 1.25 = 102.4 px; PCK@0.2 -> 20.48 px
    report = dict(error_px=np.array([[10., 30., 5.], [20., 1., 50.]]),
                  visible=np.array([[1, 1, 0], [1, 0, 0]]))
    rows = fit_rows(report, (128, 128), ['a', 'b', 'c'])
    assert [r['fitted'] for r in rows] == [True, False, None]
    np.testing.assert_allclose([rows[0]['error'], rows[1]['error']],
                               [20 / 102.4, 30 / 102.4])
    assert rows[2]['error'] is None
    assert fit_table(rows) == [[0, 'a', '19.5 %', 'yes'],
                               [1, 'b', '29.3 %', 'NO'], [2, 'c', '-', '-']]
    assert fit_rows(None, (128, 128), ['a']) == []


def test_predictions_are_coco_with_support_and_fit():
    sset = SupportSet()
    sset.add_image(np.zeros((10, 12, 3), np.uint8), 's.png')
    sset.place(0, 1, 2)
    sset.place(0, 3, 4)
    sset.set_skeleton('0-1')
    out = predictions_to_coco(sset, ['q.png'], [(30, 20)],
                              [np.array([[5., 6.], [7., 8.]])],
                              [np.array([0.5, 0.25])], [dict(keypoint=0)])
    assert out['images'] == [dict(id=1, file_name='q.png', width=30,
                                  height=20)]
    ann = out['annotations'][0]
    assert ann['keypoints'] == [5, 6, 2, 7, 8, 2]
    assert ann['keypoint_scores'] == [0.5, 0.25] and ann['score'] == 0.375
    assert out['categories'][0]['keypoints'] == ['kpt0', 'kpt1']
    assert out['categories'][0]['skeleton'] == [[1, 2]]  # COCO: 1-based
    assert out['support']['annotations'][0]['keypoints'] == [1, 2, 2, 3, 4, 2]
    assert 'mmppm_png_base64' not in out['support']['images'][0]
    assert out['fit'] == [dict(keypoint=0)]
