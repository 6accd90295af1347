"""matplotlib set up once for every figure the package draws (report, trace), and an atomic PNG save."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from beliefs.fileio import atomic_write_bytes

KIND_COLORS = {"hinge": "#c0504d", "contingent": "#4f81bd"}
"""One colour per kind in every figure: hinge red, contingent blue."""
DPI = 200
"""Saved resolution: about twice the 100 px per inch a browser shows, so figures stay sharp on HiDPI
screens and in print."""


def pyplot(font_size: int = 9) -> Any:
    """``matplotlib.pyplot`` on the Agg backend with the package's style (no top/right spines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": DPI,
            "font.size": font_size,
            "axes.spines.top": False,
            "axes.spines.right": False,
            # keeps a figure's title clear of its panels' titles, and colour bars clear of the panels
            "figure.constrained_layout.use": True,
        }
    )
    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` atomically (no software tag, so reruns give the same bytes);
    close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    atomic_write_bytes(path, buffer.getvalue())
    pyplot().close(fig)
    return path
