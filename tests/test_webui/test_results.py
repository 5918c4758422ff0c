"""What a web-page run returns: the fit table and the COCO predictions."""
import numpy as np

from mmppm.webui import SupportSet, fit_rows, fit_table, predictions_to_coco


def test_fit_rows_use_the_worst_counted_support_and_the_pck_rule():
    """The page's "fitted" is the metric's: error over max(w, h) of the
    support's box strictly below 0.2, where the keypoint counts (visible in
    that support and in every support, as PCK counts a query)."""
    from mmpose.structures import PoseDataSample
    gt = np.array([[[50., 50.]] * 4, [[40., 40.]] * 4])  # [S=2, K=4, 2]
    dx = np.array([[10., 30., 5., 30.], [19., 1., 50., 20.]])
    pred = gt + np.stack([dx, np.zeros_like(dx)], -1)
    result = PoseDataSample(
        metainfo=dict(
            fit_keypoints=pred,
            support_keypoints=gt,
            support_bboxes=np.array([[0., 0., 100., 100.]] * 2),
            support_keypoints_visible=np.array([[1, 1, 0, 1], [1, 0, 0, 1]])))
    rows = fit_rows(result, ['a', 'b', 'c', 'd'])
    assert [r['fitted'] for r in rows] == [True, None, None, False]
    np.testing.assert_allclose([rows[0]['error'], rows[3]['error']],
                               [0.19, 0.30])
    assert rows[1]['error'] is None and rows[2]['error'] is None
    assert fit_table(rows) == [[0, 'a', '19.0 %', 'yes'], [1, 'b', '-', '-'],
                               [2, 'c', '-', '-'], [3, 'd', '30.0 %', 'NO']]
    assert fit_rows(None, ['a']) == []
    # exactly 0.2 is not within PCK@0.2 (strict, as the metric)
    result.set_metainfo(dict(fit_keypoints=gt + [[[20., 0.]]] * 1))
    assert fit_rows(result, list('abcd'))[0]['fitted'] is False


def test_predictions_are_coco_with_support_and_fit():
    sset = SupportSet()
    sset.add_image(np.zeros((10, 12, 3), np.uint8), 's.png')
    sset.place(0, 1, 2)
    sset.place(0, 3, 4)
    sset.set_skeleton('0-1')
    out = predictions_to_coco(sset, ['q.png'], [(30, 20)],
                              [np.array([[5., 6.], [7., 8.]])],
                              [np.array([0.5, 0.25])], [dict(keypoint=0)])
    assert out['images'] == [
        dict(id=1, file_name='q.png', width=30, height=20)
    ]
    ann = out['annotations'][0]
    assert ann['keypoints'] == [5, 6, 2, 7, 8, 2]
    assert ann['keypoint_scores'] == [0.5, 0.25] and ann['score'] == 0.375
    assert out['categories'][0]['keypoints'] == ['kpt0', 'kpt1']
    assert out['categories'][0]['skeleton'] == [[1, 2]]  # COCO: 1-based
    assert out['support']['annotations'][0]['keypoints'] == [1, 2, 2, 3, 4, 2]
    assert 'mmppm_png_base64' not in out['support']['images'][0]
    assert out['fit'] == [dict(keypoint=0)]
