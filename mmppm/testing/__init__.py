# Copyright (c) mmppm contributors. All rights reserved.
"""Helpers for tests and screenshots (headless Chromium); nothing here is
imported by ``import mmppm``."""
