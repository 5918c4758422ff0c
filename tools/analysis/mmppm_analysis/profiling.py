# Copyright (c) mmppm contributors. All rights reserved.
"""Wall-clock phases and peak memory, on CUDA or a CPU, for the analysis
tools (``tools/analysis/``)."""
import time
from contextlib import contextmanager
from typing import Dict, Optional

import torch


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _proc_status_kb(field: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_cpu_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


@contextmanager
def peak_memory(device: torch.device):
    """Yield a dict filled with ``peak_mem_mb`` and ``peak_mem_delta_mb``."""
    rec: Dict[str, object] = {}
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        yield rec
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device)
        rec.update(
            mem_kind='cuda_max_memory_allocated',
            peak_mem_mb=peak / 2**20,
            peak_mem_delta_mb=(peak - base) / 2**20)
        return
    reset = _reset_cpu_peak()
    base = _proc_status_kb('VmRSS')
    yield rec
    peak = _proc_status_kb('VmHWM')
    if base is None or peak is None:
        rec.update(
            mem_kind='unavailable', peak_mem_mb=None, peak_mem_delta_mb=None)
        return
    rec.update(
        mem_kind='cpu_peak_rss' if reset else 'cpu_peak_rss_since_start',
        peak_mem_mb=peak / 1024,
        peak_mem_delta_mb=(peak - base) / 1024)


class PhaseTimer:
    """Wall-clock phases, synchronising CUDA at each boundary."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.times: Dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str):
        sync(self.device)
        start = time.perf_counter()
        yield
        sync(self.device)
        self.times[phase] = self.times.get(phase, 0.) + \
            time.perf_counter() - start
