"""Exports of CANN Studio: movies (MP4, GIF), images of views (PNG, SVG), CSV and "Copy as Python".

Submodules: :mod:`.frames` (Frames from a recording or a re-run), :mod:`.writer` (streaming movie
files), :mod:`.render` (offscreen panel rendering), :mod:`.movie` (the export loop, the background job
and its dialog), :mod:`.image` (publication-style images), :mod:`.actions` (menu and context-menu
entries). Nothing here runs at import time.
"""
