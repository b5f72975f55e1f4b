"""SVG to PNG, with whichever converter this machine has."""

from __future__ import annotations

import os
import shutil
import subprocess

__all__ = ["svg_to_png"]

_SCALE = 1.5  # crisp on high-density screens and in slides


def svg_to_png(svg: str, path: str | os.PathLike[str]) -> None:
    """Write ``svg`` to ``path`` as PNG.

    Uses cairosvg when it can be imported, else librsvg's ``rsvg-convert``.
    Raises RuntimeError saying what to install when neither is available.
    """
    try:
        import cairosvg
    except ImportError:
        cairosvg = None
    if cairosvg is not None:
        cairosvg.svg2png(bytestring=svg.encode("utf-8"), write_to=os.fspath(path), scale=_SCALE)
        return
    converter = shutil.which("rsvg-convert")
    if converter is None:
        raise RuntimeError(
            "cannot write PNG: install cairosvg (pip install cairosvg) or librsvg's "
            "rsvg-convert (apt install librsvg2-bin)"
        )
    done = subprocess.run(
        [converter, "--zoom", str(_SCALE), "--format", "png", "--output", os.fspath(path)],
        input=svg.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rsvg-convert failed: {done.stderr.decode(errors='replace').strip()}")
