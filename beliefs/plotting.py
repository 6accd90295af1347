"""matplotlib set up once for every figure the package draws (report, trace), and an atomic PNG save."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from beliefs.fileio import atomic_write_bytes


def pyplot(font_size: int = 9) -> Any:
    """``matplotlib.pyplot`` on the Agg backend with the package's style (no top/right spines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {"figure.dpi": 110, "font.size": font_size, "axes.spines.top": False, "axes.spines.right": False}
    )
    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` atomically (no software tag, so reruns give the same bytes);
    close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    atomic_write_bytes(path, buffer.getvalue())
    pyplot().close(fig)
    return path
