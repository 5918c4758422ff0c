# Copyright (c) mmppm contributors. All rights reserved.
from .episodic_pck import DEFAULT_THRS, episodic_pck, episodic_pck_mask

__all__ = ['DEFAULT_THRS', 'episodic_pck', 'episodic_pck_mask']
