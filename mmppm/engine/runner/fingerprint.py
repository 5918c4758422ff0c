# Copyright (c) mmppm contributors. All rights reserved.
"""Content fingerprints of what decides a test run's predictions.

A cached prediction may be replayed only if nothing that produced it has
changed (docs/reliability.md, "The prediction cache key"): the resolved
config that reaches the model, the test loop and the metric, the
checkpoint's bytes, the Stable Diffusion weights, the annotation file and
the images. Paths are not enough (a file replaced under the same name must
never replay), so every part is keyed on content:

- every path is resolved first (``~`` expanded, symbolic links followed,
  also links to component folders inside an SD folder), and every file is
  hashed where it really lives;
- every file is keyed on the SHA-256 of all its bytes. Large files (SD
  weights) are hashed once and the hash is remembered in a JSON file
  (:class:`HashMemo`) against the file's device, inode, size, modification
  time and status-change time (``ctime``): ``cp -p``, ``rsync -t`` and
  ``tar`` restore the modification time but cannot set ``ctime`` (the
  kernel sets it to *now* on every write, rename or ``utime``), so no
  rewrite can keep all five. A hash is not remembered while the file is
  younger than :data:`RACY_SECONDS` (a write in the same clock tick as the
  hash would keep ``ctime``).

The code is keyed too: the source of mmppm and of every module the
config's ``custom_imports`` names (:func:`code_fingerprint`); an SD folder
is keyed on what ``from_pretrained`` reads from it
(:func:`sd_folder_fingerprint`).
"""
import hashlib
import importlib.util
import json
import os
import os.path as osp
import time
from typing import Any, Dict, Iterable, Optional

#: Files at least this large have their hash remembered (:class:`HashMemo`).
REMEMBER_MIN_BYTES = 64 * 2**20
#: A file changed less than this long ago is hashed, never remembered.
RACY_SECONDS = 2.0
_BLOCK = 2**20


def resolve_path(path: str) -> str:
    """The real path of ``path``: ``~`` expanded, links followed,
    absolute (the file the loader will actually read)."""
    return osp.realpath(osp.expanduser(str(path)))


def sha256_file(path: str) -> str:
    """SHA-256 of all the bytes of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(_BLOCK), b''):
            digest.update(block)
    return digest.hexdigest()


def stat_identity(stat: os.stat_result) -> list:
    """What a remembered hash is valid for: device, inode, size,
    modification and status-change time in nanoseconds."""
    return [
        stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns,
        stat.st_ctime_ns
    ]


def is_settled(stat: os.stat_result, now_ns: int) -> bool:
    """Whether a file last changed long enough ago that a hash of it may be
    remembered (:data:`RACY_SECONDS`)."""
    last = max(stat.st_mtime_ns, stat.st_ctime_ns)
    return now_ns - last > RACY_SECONDS * 1e9


def default_memo_path() -> str:
    """``$MMPPM_HASH_MEMO``, or ``~/.cache/mmppm/file_hashes.json``."""
    return os.environ.get('MMPPM_HASH_MEMO') or osp.join(
        osp.expanduser('~'), '.cache', 'mmppm', 'file_hashes.json')


class HashMemo:
    """Remembered SHA-256 hashes of large files, valid while the file's
    :func:`stat_identity` is unchanged.

    Stored as JSON (never unpickled), written atomically; an unreadable
    store is treated as empty (files are hashed again).

    Args:
        path (str, optional): The JSON file. Defaults to
            :func:`default_memo_path`.
    """

    def __init__(self, path: Optional[str] = None):
        self.path = path or default_memo_path()
        self._entries: Optional[Dict[str, Any]] = None
        self._dirty = False

    def _load(self) -> Dict[str, Any]:
        if self._entries is None:
            try:
                with open(self.path, encoding='utf-8') as f:
                    data = json.load(f)
                self._entries = data.get('files', {}) if isinstance(
                    data, dict) and data.get('version') == 1 else {}
            except (OSError, ValueError):
                self._entries = {}
        return self._entries

    def sha256(self, path: str) -> str:
        """The SHA-256 of a file, remembered or computed.

        Args:
            path (str): A resolved path (:func:`resolve_path`).
        """
        stat = os.stat(path)
        identity = stat_identity(stat)
        entry = self._load().get(path)
        if isinstance(entry, dict) and entry.get('stat') == identity:
            return entry['sha256']
        value = sha256_file(path)
        if stat_identity(os.stat(path)) == identity and is_settled(
                stat, time.time_ns()):
            self._entries[path] = dict(stat=identity, sha256=value)
            self._dirty = True
        return value

    def save(self) -> None:
        """Write the store if it changed (atomically; a failure to write it
        only costs hashing again next time)."""
        if not self._dirty:
            return
        from mmppm.utils.atomic_io import atomic_write_json
        try:
            atomic_write_json(self.path, dict(version=1, files=self._entries))
        except OSError:
            pass
        self._dirty = False


def file_fingerprint(path: str, memo: Optional[HashMemo] = None) -> str:
    """SHA-256 of the bytes of the file ``path`` resolves to; remembered in
    ``memo`` for files of at least :data:`REMEMBER_MIN_BYTES`."""
    path = resolve_path(path)
    if memo is not None and os.stat(path).st_size >= REMEMBER_MIN_BYTES:
        return memo.sha256(path)
    return sha256_file(path)


def content_fingerprint(paths: Iterable[str]) -> str:
    """Digest of the bytes of many files (images), each named by its path:
    any file whose content differs changes it, whatever its size and
    modification time; a missing one is recorded as missing."""
    digest = hashlib.sha256()
    for path in sorted(set(paths)):
        try:
            part = file_fingerprint(path)
        except OSError:
            part = 'missing'
        digest.update(f'{path}:{part}\n'.encode())
    return digest.hexdigest()


def folder_fingerprint(folder: str, memo: Optional[HashMemo] = None) -> str:
    """Digest of every file under ``folder`` (relative path and content),
    following links to files and to folders (a component folder such as
    ``unet -> ../other/unet`` is hashed where it lives; a link loop is
    walked once)."""
    folder = resolve_path(folder)
    digest = hashlib.sha256()
    seen = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = osp.realpath(root)
        if real in seen:  # a link back up the tree
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        for name in sorted(files):
            path = osp.join(root, name)
            rel = osp.relpath(path, folder)
            try:
                part = file_fingerprint(path, memo)
            except OSError:  # a dangling link
                part = 'missing'
            digest.update(f'{rel}:{part}\n'.encode())
    return digest.hexdigest()


def sd_folder_fingerprint(folder: str, memo: Optional[HashMemo] = None) -> str:
    """Digest of what ``from_pretrained`` reads from a diffusers folder:
    ``model_index.json`` and the component folders it names (``unet``,
    ``vae``, ``scheduler``, ...); other files beside them (a CPT checkpoint
    kept in the same folder, notes) change no prediction and are not
    keyed. A folder without a readable ``model_index.json`` is keyed
    whole (:func:`folder_fingerprint`)."""
    folder = resolve_path(folder)
    index = osp.join(folder, 'model_index.json')
    try:
        with open(index, encoding='utf-8') as f:
            components = [
                name for name, value in json.load(f).items()
                if isinstance(value, list) and not name.startswith('_')
            ]
    except (OSError, ValueError, AttributeError):
        return folder_fingerprint(folder, memo)
    digest = hashlib.sha256()
    digest.update(f'model_index.json:{file_fingerprint(index)}\n'.encode())
    for name in sorted(components):
        path = osp.join(folder, name)
        part = folder_fingerprint(path, memo) if osp.isdir(path) else 'missing'
        digest.update(f'{name}/:{part}\n'.encode())
    return digest.hexdigest()


def code_fingerprint(modules: Iterable[str]) -> str:
    """Digest of the Python source of ``modules`` (a package: every ``.py``
    file under it): mmppm itself and what a config's ``custom_imports``
    loads (a map loss of your own, docs/extending.md), so an edited module
    computes its episodes again. A module that cannot be found is keyed by
    name."""
    digest = hashlib.sha256()
    for name in sorted(set(modules)):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        files = []
        if spec is not None and spec.submodule_search_locations:
            for root in spec.submodule_search_locations:
                for dirpath, dirs, names in os.walk(root):
                    dirs[:] = sorted(d for d in dirs if d != '__pycache__')
                    files += [
                        osp.join(dirpath, n) for n in sorted(names)
                        if n.endswith('.py')
                    ]
        elif spec is not None and spec.origin and osp.isfile(spec.origin):
            files = [spec.origin]
        digest.update(f'module {name}: {len(files)} files\n'.encode())
        for path in files:
            digest.update(f'{path}:{sha256_file(path)}\n'.encode())
    return digest.hexdigest()


def hub_snapshot(repo_id: str, revision: Optional[str]) -> Optional[str]:
    """The local snapshot folder of a hub id in the Hugging Face cache (the
    files ``from_pretrained`` read), or None if none is cached."""
    try:
        from huggingface_hub import snapshot_download
        return snapshot_download(
            repo_id, revision=revision, local_files_only=True)
    except Exception:  # not cached, not a valid id, no hub library
        return None


def weights_fingerprint(pretrained: Optional[str],
                        revision: Optional[str] = None,
                        memo: Optional[HashMemo] = None) -> Optional[str]:
    """The content of the SD weights ``pretrained`` names: a local folder
    (``~`` expanded, links followed) or the cached snapshot of a hub id;
    a hub id not in the cache is keyed by id and revision."""
    if not pretrained:
        return None
    local = resolve_path(pretrained)
    if osp.isdir(local):
        return sd_folder_fingerprint(local, memo)
    snapshot = hub_snapshot(str(pretrained), revision)
    if snapshot and osp.isdir(snapshot):
        return sd_folder_fingerprint(snapshot, memo)
    return f'hub:{pretrained}@{revision or "main"}'


def config_fingerprint(keyed: Dict[str, Any]) -> str:
    """SHA-256 of a config's (or part of it) canonical JSON text."""
    text = json.dumps(keyed, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _short(value: Optional[str]) -> Optional[str]:
    """16 hex digits of a digest (hub ids are kept whole)."""
    if value is None or value.startswith('hub:'):
        return value
    return value[:16]


def run_fingerprint(
    config_digest: str,
    load_from: Optional[str] = None,
    pretrained: Optional[str] = None,
    revision: Optional[str] = None,
    ann_file: Optional[str] = None,
    image_paths: Iterable[str] = (),
    memo: Optional[HashMemo] = None,
    code_modules: Iterable[str] = ()
) -> Dict[str, str]:
    """The parts of a prediction cache key, each a short digest.

    Args:
        config_digest (str): Digest of the resolved config
            (``resumable_test_loop.config_cache_name``).
        load_from (str, optional): Checkpoint file.
        pretrained (str, optional): ``model.backbone.pretrained``.
        revision (str, optional): Its hub revision.
        ann_file (str, optional): The test annotation file.
        image_paths (Iterable[str]): The images of the test set.
        memo (HashMemo, optional): Where hashes of large files are
            remembered. Defaults to a :class:`HashMemo` at
            :func:`default_memo_path`.
        code_modules (Iterable[str]): Modules whose source is keyed
            (:func:`code_fingerprint`); none: no ``code`` part.

    Returns:
        dict: ``config``, ``checkpoint``, ``sd_weights``, ``annotations``
        and ``images`` digests (None where the part does not apply), and
        ``code`` with ``code_modules``.
    """
    memo = memo if memo is not None else HashMemo()
    image_paths = list(image_paths)

    def one_file(path):
        if path and osp.isfile(resolve_path(path)):
            return _short(file_fingerprint(path, memo))
        return path

    parts = dict(
        config=config_digest,
        checkpoint=one_file(load_from),
        sd_weights=_short(weights_fingerprint(pretrained, revision, memo)),
        annotations=one_file(ann_file),
        images=_short(
            content_fingerprint(
                resolve_path(p)
                for p in image_paths)) if image_paths else None)
    code_modules = list(code_modules)
    if code_modules:
        parts['code'] = _short(code_fingerprint(code_modules))
    memo.save()
    return parts


def cache_key(parts: Dict[str, Optional[str]]) -> str:
    """A 12-character name for the cache folder of these parts."""
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]
