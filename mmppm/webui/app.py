# Copyright (c) mmppm contributors. All rights reserved.
"""The local web page: click keypoints on support images, find them in
query images (``demo/webui.py``, docs/webui.md).

Every prediction goes through :func:`mmppm.apis.inference_cape`; the page
only annotates, runs it and shows what it returns.
"""
import atexit
import functools
import json
import logging
import os
import os.path as osp
import shutil
import tempfile
import time
import traceback
from typing import List, Optional, Sequence

import numpy as np

from mmppm.apis import inference_cape, load_image
from mmppm.datasets.json_io import read_json_object
from mmppm.utils.atomic_io import atomic_write_json
from mmppm.utils.errors import PageError, UserError, first_line
from mmppm.utils.file_names import IMG_EXTENSIONS, unique_stems
from mmppm.visualization import save_rgb
from .render import display_scale, draw_query, draw_query_maps, draw_support
from .results import fit_rows, fit_table, predictions_to_coco
from .support_set import SupportSet

logger = logging.getLogger('mmppm.webui')

CLICK_MODES = ('place the next keypoint', 'move the selected keypoint',
               'set a box corner (two clicks)')
KPT_HEADERS = ['#', 'name', 'x', 'y', 'visible']
FIT_HEADERS = ['#', 'name', 'worst error on the supports', 'fitted']
INTRO = """# Few-shot keypoints (mmppm: PPM, Peng et al., ECCV 2024)
1. Upload one or more **support images** and click on the picture to place
   keypoints (keypoint *k* is the same part on every support).
2. Upload or pick **query images**.
3. Press **Run**: a prompt is fitted to each keypoint on the supports
   (paper Eq. 4) and matched in the queries (Eq. 5).
"""

#: Seconds a browser session's support set is kept after its last use.
SESSION_TTL_S = 3600
#: Largest file the page accepts (uploads and support sets).
MAX_UPLOAD = '50mb'
MAX_SUPPORT_SET_BYTES = 50 * 2**20


def page_errors(fn):
    """Turn errors into one message in the page: the user's own mistakes
    (:class:`~mmppm.utils.errors.UserError`, :class:`PageError` among
    them) as they are, anything else as an internal error with its type
    and first line (the traceback goes to the server log)."""
    import gradio as gr

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except UserError as e:
            raise gr.Error(str(e)) from None
        except Exception as e:  # noqa: BLE001  (no stack trace in the page)
            logger.error('web page callback %s failed:\n%s', fn.__name__,
                         traceback.format_exc())
            raise gr.Error(f'Internal error ({type(e).__name__}: '
                           f'{first_line(e)}); '
                           'the traceback is in the server log (the '
                           'terminal running demo/webui.py)') from None

    return wrapper


# ------------------------------------------------------------- callbacks
def keypoint_rows(support: SupportSet, s: Optional[int]) -> List[list]:
    """The keypoint table of support image ``s``."""
    if s is None or not 0 <= s < len(support.images):
        return []
    img = support.images[s]
    rows = []
    for k, name in enumerate(support.names):
        x, y = img.keypoints[k]
        placed = not np.isnan(x)
        rows.append([
            k, name,
            round(float(x), 1) if placed else '-',
            round(float(y), 1) if placed else '-', 'yes' if img.visible[k] else
            ('no' if placed else 'not placed')
        ])
    return rows


def support_choices(support: SupportSet) -> list:
    return [(f'{s + 1}: {img.name}', s)
            for s, img in enumerate(support.images)]


def support_view(support: SupportSet, s: Optional[int]) -> tuple:
    """``(picture, keypoint rows)`` of support image ``s``."""
    if s is None or not 0 <= s < len(support.images):
        return None, []
    img = support.images[s]
    return (draw_support(img, support.skeleton,
                         display_scale(img.image)), keypoint_rows(support, s))


def click_position(support: SupportSet, s: Optional[int],
                   index: Sequence[int]) -> tuple:
    """Image pixel ``(x, y)`` of a click on the (enlarged) picture: the
    centre of the clicked display pixel."""
    scale = display_scale(support.images[_shown(s)].image)
    return tuple((float(v) + 0.5) / scale - 0.5 for v in index[:2])


def add_support_images(support: SupportSet, paths: Sequence[str]) -> int:
    """Load uploaded files into the set; returns the index of the last."""
    if not paths:
        raise PageError('No file was uploaded')
    for path in paths:
        support.add_image(read_upload(path), osp.basename(str(path)))
    return len(support.images) - 1


def read_upload(path: str, what: str = '') -> np.ndarray:
    """An uploaded image file as BGR, or the message that it is none."""
    name = osp.basename(str(path))
    try:
        return load_image(str(path), f'{what}image {name}')
    except UserError as e:
        if 'not a readable image' not in str(e):  # too large, cut off...
            raise PageError(str(e).replace(f' {path}', '')) from None
        raise PageError(f'{what}{name} is not an image this page can read '
                        '(use PNG or JPEG)') from None


def click(support: SupportSet, s: Optional[int], mode: str,
          selected: Optional[float], x: float, y: float) -> tuple:
    """Apply one click on support ``s``; returns ``(selected, message)``."""
    s = _shown(s)
    if mode == CLICK_MODES[1]:
        k = _selected(selected)
        support.move(s, k, x, y)
        return k, f'Keypoint {k} moved to ({x:.0f}, {y:.0f})'
    if mode == CLICK_MODES[2]:
        box = support.box_corner(s, x, y)
        return selected, ('Now click the opposite corner' if box is None else
                          'Box set to ' + ', '.join(f'{v:.0f}' for v in box))
    k = support.place(s, x, y)
    return k, f'Keypoint {k} placed at ({x:.0f}, {y:.0f})'


def _shown(s: Optional[int]) -> int:
    """The support image shown (``s``), or the message to add one."""
    if s is None:
        raise PageError('Upload a support image first')
    return s


def _selected(selected: Optional[float]) -> int:
    if selected is None:
        raise PageError('Type the number of a keypoint in "Selected '
                        'keypoint" first')
    return int(selected)


def query_list(uploaded: Optional[Sequence[str]],
               picked: Optional[Sequence[str]]) -> List[str]:
    paths = [str(p) for p in (uploaded or [])] + list(picked or [])
    if not paths:
        raise PageError('Upload or pick at least one query image')
    return paths


def run_episode(model,
                support: SupportSet,
                query_paths: Sequence[str],
                out_dir: str,
                progress=None) -> dict:
    """Fit on the supports, predict the queries, write the pictures and
    ``predictions.json`` into ``out_dir``.

    Returns:
        dict: ``results`` (``(png, caption)`` per query), ``maps`` (the same
        for the map grids), ``fit`` (:func:`fit_rows`), ``files``,
        ``predictions`` (the JSON's dict) and ``seconds``.
    """
    images, kpts, boxes = support.arrays()
    queries = [read_upload(path, 'Query ') for path in query_paths]
    start = time.perf_counter()
    results = inference_cape(
        model,
        images,
        kpts,
        queries,
        support_bboxes=boxes,
        return_heatmaps=True,
        fit_diagnostics=True,
        progress=progress)
    seconds = time.perf_counter() - start
    rows = fit_rows(results[0], support.names)
    names = unique_stems(query_paths)
    pictures, grids = [], []
    for name, img, res in zip(names, queries, results):
        kp = res.pred_instances.keypoints[0]
        maps = np.asarray(res.pred_fields.heatmaps.cpu())
        pictures.append((save_rgb(
            draw_query(img, kp, support.skeleton),
            osp.join(out_dir, f'{name}_pred.png')), name))
        grids.append((save_rgb(
            draw_query_maps(img, res.metainfo, maps, support.names),
            osp.join(out_dir, f'{name}_maps.png')), name))
    predictions = predictions_to_coco(
        support, [osp.basename(p) for p in query_paths],
        [(q.shape[1], q.shape[0])
         for q in queries], [r.pred_instances.keypoints[0] for r in results],
        [r.pred_instances.keypoint_scores[0] for r in results], rows)
    json_path = osp.join(out_dir, 'predictions.json')
    atomic_write_json(json_path, predictions, indent=1)
    files = [json_path] + [p for p, _ in pictures] + [p for p, _ in grids]
    return dict(
        results=pictures,
        maps=grids,
        fit=rows,
        files=files,
        predictions=predictions,
        seconds=seconds)


def run_summary(out: dict, num_queries: int) -> str:
    fitted = [r['fitted'] for r in out['fit'] if r['fitted'] is not None]
    missed = [str(r['keypoint']) for r in out['fit'] if r['fitted'] is False]
    text = (f'Done in {out["seconds"]:.1f} s: {num_queries} '
            f'quer{"y" if num_queries == 1 else "ies"}, '
            f'{sum(fitted)}/{len(fitted)} keypoints fitted on the supports.')
    if missed:
        text += (f' Not learnt: keypoint(s) {", ".join(missed)} -- their '
                 'predictions are unreliable (more steps or a higher lr in '
                 'the config, docs/method.md "Fit diagnostics").')
    return text


def load_support_file(path: str) -> SupportSet:
    size = osp.getsize(str(path))
    if size > MAX_SUPPORT_SET_BYTES:
        raise PageError(f'{osp.basename(str(path))} is {size / 2**20:.0f} MB, '
                        f'above the {MAX_SUPPORT_SET_BYTES // 2**20} MB a '
                        'support set may have')
    data = read_json_object(str(path), 'Support set file')
    return SupportSet.from_coco(data, osp.basename(str(path)))


def save_support_file(support: SupportSet, out_dir: str) -> str:
    support.check_ready()
    path = osp.join(out_dir, 'support_set.json')
    atomic_write_json(path, support.to_coco())
    return path


def example_images(folder: Optional[str], limit: int = 24) -> List[str]:
    """Image files under ``folder`` (sorted, at most ``limit``)."""
    if not folder or not osp.isdir(folder):
        return []
    found = []
    for root, _, files in sorted(os.walk(folder)):
        found += [
            osp.join(root, f) for f in sorted(files)
            if f.lower().endswith(IMG_EXTENSIONS)
        ]
    return found[:limit]


# ------------------------------------------------------------------ page
def image_uploader(label: str, elem_id: str):
    """A drop zone for several images."""
    import gradio as gr
    return gr.File(
        label=label,
        file_count='multiple',
        file_types=['image'],
        height=110,
        elem_id=elem_id)


def build_app(model, examples: Sequence[str] = (), title: str = 'mmppm'):
    """The page as a ``gradio.Blocks`` (not launched).

    Args:
        model (nn.Module): From :func:`mmppm.apis.init_cape_model`.
        examples (Sequence[str]): Image files offered as query picks.
        title (str): Browser tab title.
    """
    import gradio as gr

    work = tempfile.mkdtemp(prefix='mmppm_webui_')
    # the page's own temporary files go when the server process ends
    atexit.register(shutil.rmtree, work, ignore_errors=True)

    def out_dir() -> str:
        return tempfile.mkdtemp(dir=work)

    @page_errors
    def on_upload(support, paths):
        support = support.copy()
        s = add_support_images(support, paths)
        picture, rows = support_view(support, s)
        return (support, gr.update(choices=support_choices(support), value=s),
                picture, rows, None, f'Support image {s + 1} added: click on '
                'it to place keypoints')

    @page_errors
    def on_pick(support, s):
        return support_view(support, s)

    def edited(support, s, text):
        """Outputs after an edit: the set, its picture and table, a
        message."""
        return (support, *support_view(support, s), text)

    @page_errors
    def on_click(support, s, mode, selected, evt: gr.SelectData):
        support = support.copy()
        x, y = click_position(support, s, evt.index)
        selected, text = click(support, s, mode, selected, x, y)
        return (*edited(support, s, text), selected)

    @page_errors
    def on_remove_keypoint(support, s, selected):
        support = support.copy()
        k = _selected(selected)
        support.remove_keypoint(k)
        return edited(support, s, f'Keypoint {k} removed')

    @page_errors
    def on_toggle(support, s, selected):
        support = support.copy()
        k = _selected(selected)
        state = support.toggle_visible(_shown(s), k)
        return edited(
            support, s, f'Keypoint {k} is '
            f'{"" if state else "not "}visible on support image '
            f'{s + 1}')

    @page_errors
    def on_clear_box(support, s):
        support = support.copy()
        support.clear_box(_shown(s))
        return edited(support, s, 'Box cleared: the whole image is used')

    @page_errors
    def on_remove_image(support, s):
        support = support.copy()
        support.remove_image(_shown(s))
        s = len(support.images) - 1 if support.images else None
        return (support, gr.update(choices=support_choices(support), value=s),
                *support_view(support, s), 'Support image removed')

    @page_errors
    def on_names(support, s, names, skeleton):
        support = support.copy()
        support.set_names(names or '')
        support.set_skeleton(skeleton or '')
        return edited(support, s, 'Names and skeleton updated')

    @page_errors
    def on_save(support):
        return save_support_file(support, out_dir())

    @page_errors
    def on_load(path):
        support = load_support_file(path)
        s = 0 if support.images else None
        return (support, gr.update(choices=support_choices(support), value=s),
                *support_view(support, s), ', '.join(support.names),
                ' '.join(f'{a}-{b}' for a, b in support.skeleton),
                f'Loaded {len(support.images)} support image(s) with '
                f'{support.num_keypoints} keypoints')

    @page_errors
    def on_run(support, uploaded, picked, progress=gr.Progress()):
        paths = query_list(uploaded, picked)
        support.check_ready()
        progress((0, None), desc='Preparing')

        def tick(done, steps):
            progress((done, steps), desc='Fitting prompts', unit='steps')

        out = run_episode(model, support, paths, out_dir(), tick)
        return (out['results'], out['maps'], fit_table(out['fit']),
                out['files'], json.dumps(out['predictions'], indent=1),
                run_summary(out, len(paths)))

    with gr.Blocks(title=title) as page:
        # a session's support set (images included) is dropped an hour
        # after its last use, not kept for the server's lifetime
        support = gr.State(SupportSet(), time_to_live=SESSION_TTL_S)
        gr.Markdown(INTRO)
        message = gr.Markdown(
            'Start by uploading a support image.', elem_id='message')
        with gr.Row():
            with gr.Column():
                gr.Markdown('## 1. Supports')
                support_files = image_uploader('Add support images',
                                               'support-files')
                pick = gr.Dropdown(
                    label='Support image shown',
                    choices=[],
                    value=None,
                    elem_id='support-pick')
                canvas = gr.Image(
                    label='Click to annotate',
                    type='numpy',
                    interactive=False,
                    format='png',
                    elem_id='support-canvas',
                    height=500,
                    buttons=['fullscreen'])
                mode = gr.Radio(
                    list(CLICK_MODES),
                    value=CLICK_MODES[0],
                    label='A click on the picture will',
                    elem_id='click-mode')
                with gr.Row():
                    selected = gr.Number(
                        label='Selected keypoint',
                        value=0,
                        precision=0,
                        minimum=0,
                        elem_id='selected')
                    remove_kpt = gr.Button('Remove keypoint', size='sm')
                    toggle = gr.Button('Visible / not visible here', size='sm')
                with gr.Row():
                    clear_box = gr.Button('Clear box', size='sm')
                    remove_img = gr.Button(
                        'Remove this support image', size='sm')
                table = gr.Dataframe(
                    headers=KPT_HEADERS,
                    interactive=False,
                    label='Keypoints on this support',
                    elem_id='keypoint-table')
                names = gr.Textbox(
                    label='Keypoint names (comma-separated, '
                    'in order)',
                    elem_id='names')
                skeleton = gr.Textbox(
                    label='Skeleton links (e.g. 0-1 1-2)', elem_id='skeleton')
                apply_names = gr.Button('Apply names and skeleton', size='sm')
                with gr.Row():
                    save = gr.Button(
                        'Save support set', size='sm', elem_id='save-support')
                    load = gr.UploadButton(
                        'Load support set',
                        file_types=['.json'],
                        size='sm',
                        elem_id='load-support')
                saved = gr.File(
                    label='Saved support set',
                    interactive=False,
                    height=60,
                    elem_id='saved-support')
            with gr.Column():
                gr.Markdown('## 2. Queries')
                query_files = image_uploader('Query images', 'query-files')
                picked = gr.Dropdown(
                    label='... or pick bundled images',
                    multiselect=True,
                    choices=[(osp.basename(p), p) for p in examples],
                    value=[],
                    elem_id='query-picks')
                run = gr.Button('3. Run', variant='primary', elem_id='run')
                results = gr.Gallery(
                    label='Predicted keypoints',
                    elem_id='results',
                    format='png',
                    columns=3,
                    height='auto')
                fit = gr.Dataframe(
                    headers=FIT_HEADERS,
                    interactive=False,
                    label='Fit diagnostics: each prompt decoded on '
                    'its own supports (error / object size; '
                    'fitted = within PCK@0.2)',
                    elem_id='fit-table')
                maps = gr.Gallery(
                    label='Attention map of every keypoint',
                    elem_id='maps',
                    format='png',
                    columns=2,
                    height='auto')
                downloads = gr.File(
                    label='Downloads (predictions.json and '
                    'PNGs)',
                    file_count='multiple',
                    interactive=False,
                    height=160,
                    elem_id='downloads')
                with gr.Accordion('predictions.json', open=False):
                    pred_json = gr.Code(
                        language='json', elem_id='predictions-json')

        view = [canvas, table]
        support_files.upload(on_upload, [support, support_files],
                             [support, pick, *view, support_files, message])
        pick.input(on_pick, [support, pick], view)
        canvas.select(on_click, [support, pick, mode, selected],
                      [support, *view, message, selected])
        remove_kpt.click(on_remove_keypoint, [support, pick, selected],
                         [support, *view, message])
        toggle.click(on_toggle, [support, pick, selected],
                     [support, *view, message])
        clear_box.click(on_clear_box, [support, pick],
                        [support, *view, message])
        remove_img.click(on_remove_image, [support, pick],
                         [support, pick, *view, message])
        apply_names.click(on_names, [support, pick, names, skeleton],
                          [support, *view, message])
        save.click(on_save, [support], [saved])
        load.upload(on_load, [load],
                    [support, pick, *view, names, skeleton, message])
        run.click(on_run, [support, query_files, picked],
                  [results, maps, fit, downloads, pred_json, message])
    return page
