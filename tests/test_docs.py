# Copyright (c) mmppm contributors. All rights reserved.
"""The README and docs/ as a reader follows them: every docs page is in the
index (docs/README.md), and every relative link opens a file that exists."""
import os.path as osp
import re
from glob import glob

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DOCS = sorted(glob(osp.join(REPO, 'docs', '*.md')))
PAGES = [osp.join(REPO, 'README.md')] + DOCS
LINK = re.compile(r'\]\(([^)\s]+)\)')


def relative_links(path):
    """The targets of a markdown file's ``[text](target)`` links that point
    into the repository (no URL, no bare ``#anchor``), without anchors."""
    text = open(path, encoding='utf-8').read()
    return [
        t.split('#')[0] for t in LINK.findall(text)
        if not re.match(r'[a-z]+:', t) and not t.startswith('#')
    ]


def test_every_docs_page_is_in_the_index():
    index = set(relative_links(osp.join(REPO, 'docs', 'README.md')))
    pages = {osp.basename(p) for p in DOCS} - {'README.md'}
    assert pages - index == set()


@pytest.mark.parametrize(
    'page', PAGES, ids=[osp.relpath(p, REPO) for p in PAGES])
def test_relative_links_open_existing_files(page):
    missing = [
        t for t in relative_links(page)
        if not osp.exists(osp.join(osp.dirname(page), t))
    ]
    assert missing == []


def slug(heading: str) -> str:
    """GitHub's anchor of a markdown heading: lower case, punctuation
    dropped (but ``-`` and ``_``), spaces to hyphens."""
    text = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return text.replace(' ', '-')


def anchors(path: str) -> set:
    text = open(path, encoding='utf-8').read()
    text = re.sub(r'```.*?```', '', text, flags=re.S)  # no code blocks
    return {
        slug(m.group(1))
        for m in re.finditer(r'^#+\s+(.*)$', text, flags=re.M)
    }


def test_slug():
    assert slug('`make toy` (toy SD, CPU)') == 'make-toy-toy-sd-cpu'
    assert slug('Speed (CPU measurements, GPU projections)') == \
        'speed-cpu-measurements-gpu-projections'


@pytest.mark.parametrize(
    'page', PAGES, ids=[osp.relpath(p, REPO) for p in PAGES])
def test_anchors_name_existing_headings(page):
    """A link's ``#anchor`` names a heading of the page it opens (a heading
    renamed, e.g. a date dropped, breaks the links to it)."""
    text = open(page, encoding='utf-8').read()
    broken = []
    for target in LINK.findall(text):
        if re.match(r'[a-z]+:', target) or '#' not in target:
            continue
        file, anchor = target.split('#', 1)
        path = osp.join(osp.dirname(page), file) if file else page
        if path.endswith('.md') and osp.exists(path) and \
                anchor not in anchors(path):
            broken.append(target)
    assert broken == []
