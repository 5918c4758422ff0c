# Copyright (c) mmppm contributors. All rights reserved.
from .episodic_pck import EpisodicPCK

__all__ = ['EpisodicPCK']
