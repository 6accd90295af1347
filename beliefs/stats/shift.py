"""How far a context moves each statement's state, with a movement shared by every fact counted as zero."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def centred_displacement(x: Array, y: Array) -> Array:
    """Per-row ``‖(y_i − ȳ) − (x_i − x̄)‖`` over the median norm of the centred states (STATISTICS.md).

    ``x`` and ``y`` are ``(n, width)`` states of the same statements under two conditions. Each condition
    is centred on its own mean, so a movement shared by every fact (the context's common effect) is zero;
    features are scaled by their pooled SD over both centred conditions (the "massive" dimensions would
    dominate otherwise), and the norm is divided by the median norm of the centred, scaled states, so
    that 1 means "moved as far as a typical state lies from its centroid". Unlike ``1 − cos`` around a
    pooled mean, identical movement of every fact gives identical (zero) displacement, near the centroid
    or not.
    """
    xc = np.asarray(x, dtype=np.float64) - np.mean(x, axis=0)
    yc = np.asarray(y, dtype=np.float64) - np.mean(y, axis=0)
    sd = np.sqrt(0.5 * (np.mean(xc**2, axis=0) + np.mean(yc**2, axis=0)))
    scale = np.divide(1.0, sd, out=np.zeros_like(sd), where=sd > 0)
    xs, ys = xc * scale, yc * scale
    reference = float(np.median(np.concatenate([np.linalg.norm(xs, axis=1), np.linalg.norm(ys, axis=1)])))
    disp = np.linalg.norm(ys - xs, axis=1)
    out: Array = disp / reference if reference > 0 else np.zeros_like(disp)
    return out


__all__ = ["centred_displacement"]
