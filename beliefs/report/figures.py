"""The report's own figure: each registered ``curve`` per layer. An analysis's other figures are drawn by its
report section, in its own module."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from beliefs.plotting import pyplot as _plt
from beliefs.plotting import save_figure as _save
from beliefs.report.names import statistic_name
from beliefs.report.numbers import finite
from beliefs.report.rows import VerdictRow, verdict_statistic
from beliefs.results.verdict import ALPHA


def layer_curves(table: pd.DataFrame, analysis: str, out: Path) -> Path | None:
    """Estimate per layer with its interval band, one panel per model, one line per condition (the
    statistic and subset the analysis registered as its ``curve``)."""
    from beliefs.analyses import ANALYSES

    curve = ANALYSES[analysis].curve
    if curve is None:
        raise ValueError(f"analysis '{analysis}' registered no per-layer curve")
    statistic, subset, label = curve.statistic, curve.subset, curve.label
    data = table[
        (table["statistic"] == statistic) & (table["subset"] == subset) & (table["pooling"] == "last")
    ]
    data = data.dropna(subset=["layer"])
    if data.empty:
        return None
    plt = _plt()
    models = list(dict.fromkeys(data["model"]))  # a control's name says so already (model@random-init)
    data = data.assign(label=data["model"])
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 3.2), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        sub = data[data["label"] == model]
        for condition, rows in sub.groupby("condition", sort=False):
            rows = rows.sort_values("layer")
            line = ax.plot(rows["layer"], rows["estimate"], label=str(condition), lw=1.4)[0]
            if rows["ci_low"].notna().any():
                ax.fill_between(
                    rows["layer"], rows["ci_low"], rows["ci_high"], color=line.get_color(), alpha=0.15
                )
            sig = rows[rows["p_adjusted"] <= ALPHA]
            ax.scatter(sig["layer"], sig["estimate"], color=line.get_color(), s=12, zorder=3)
        if "null_low" in sub.columns and sub["null_low"].notna().any():
            null = sub.groupby("layer")[["null_low", "null_high"]].mean()
            ax.fill_between(
                null.index, null["null_low"], null["null_high"], color="grey", alpha=0.2, label="null 95%"
            )
        ax.set_title(model)
        ax.set_xlabel("layer (0 = embeddings)")
        ax.set_ylabel(label)
    axes[0][-1].legend(fontsize=7, frameon=False, loc="best")
    fig.suptitle(f"{statistic_name(statistic)} per layer", fontsize=9)
    return _save(fig, out)


def _in_sesoi_units(row: VerdictRow, increment: bool | None = None) -> tuple[float, float, float] | None:
    """(estimate, low, high) of a row's verdict statistic in units of its SESOI, measured from what counts
    as no effect (0 for a difference or an increment, the permutation null's mean for an accuracy or a
    distance); None where it has no SESOI. ``increment``: show the beyond-surface increment (True) or the
    estimate (False) whatever the row's verdict used (a control beside its model's point)."""
    h = row.headline
    if increment is None:
        increment = row.shown_statistic != row.statistic
    if increment:  # an increment: no effect is 0
        est, lo, hi = h.get("increment_estimate"), h.get("increment_ci_low"), h.get("increment_ci_high")
        sesoi = h.get("increment_sesoi")
        if h.get("verdict_estimate") is not None and row.shown_statistic != row.statistic:
            _, est, lo, hi, sesoi = verdict_statistic(h)
        ref, scale = 0.0, finite(sesoi)
    else:
        est, lo, hi = h.get("estimate"), h.get("ci_low"), h.get("ci_high")
        bounds = h.get("equivalence_bounds")
        sesoi = finite(h.get("sesoi"))
        if bounds and finite(bounds[1]) is not None:
            low_bound, up = finite(bounds[0]), float(bounds[1])
            ref = (low_bound + up) / 2 if low_bound is not None else (finite(h.get("null_mean")) or 0.0)
            scale = up - ref
        else:
            ref, scale = 0.0, sesoi
    e = finite(est)
    if e is None or not scale or scale <= 0:
        return None
    lo_f, hi_f = finite(lo), finite(hi)
    return (
        (e - ref) / scale,
        (lo_f - ref) / scale if lo_f is not None else float("nan"),
        (hi_f - ref) / scale if hi_f is not None else float("nan"),
    )


def _forest_name(r: VerdictRow) -> str:
    """A short label for a kind headline's verdict statistic (the long descriptions stay in the tables)."""
    beyond = r.shown_statistic != r.statistic
    if r.analysis == "kind-probe":
        return "probe: Brier gain over the wording" if beyond else "probe balanced accuracy"
    if r.analysis == "kind-distance":
        return f"{r.statistic} distance" + (" of surface residuals" if beyond else "")
    return statistic_name(r.shown_statistic)


def forest(rows: list[VerdictRow], models: list[str], out: Path) -> Path | None:
    """The headline figure: each kind headline's verdict statistic (empty prompt) and its 95% interval in
    units of its SESOI against the ±1 band, with the random-init control's beside it (grey) and the
    surface baseline below; a control that "differs" is flagged in red."""
    lines: list[tuple[str, VerdictRow, VerdictRow | None]] = []
    for model in models:
        mine = [r for r in rows if r.model == model and not r.control and r.condition == "empty"]
        for r in mine:
            if r.analysis in ("kind-probe", "kind-distance") and r.counts:
                control = next(
                    (
                        c
                        for c in rows
                        if c.control
                        and c.model.split("@")[0] == model
                        and (c.analysis, c.statistic, c.condition, c.domain)
                        == (r.analysis, r.statistic, r.condition, r.domain)
                    ),
                    None,
                )
                where = f", {r.domain}" if r.domain else ""
                lines.append((f"{model}: {_forest_name(r)}{where}", r, control))
        for r in mine:
            if r.analysis == "surface":
                lines.append((f"{model}: surface baseline ({statistic_name(r.statistic)})", r, None))
    points = [(label, _in_sesoi_units(r), r, c) for label, r, c in lines]
    points = [p for p in points if p[1] is not None]
    if not points:
        return None
    plt = _plt()
    height = 0.9 + 0.42 * len(points)
    fig, ax = plt.subplots(figsize=(7.2, height))
    ax.axvspan(
        -1, 1, color="#dddddd", alpha=0.7, lw=0, label="±SESOI: smaller than the smallest effect of interest"
    )
    ax.axvline(0, color="grey", lw=0.8)
    ys = list(range(len(points)))[::-1]
    for y, (_label, xs, row, control) in zip(ys, points, strict=True):
        assert xs is not None
        baseline = row.analysis == "surface"
        color = "#666666" if baseline else ("#222222" if row.verdict_word == "differs" else "#888888")
        marker = "s" if baseline else "o"
        ax.errorbar(
            xs[0],
            y + 0.12,
            xerr=[[max(xs[0] - xs[1], 0)], [max(xs[2] - xs[0], 0)]] if xs[1] == xs[1] else None,
            fmt=marker,
            color=color,
            ms=5,
            capsize=2,
            lw=1.2,
        )
        ax.annotate(
            row.verdict, (xs[0], y + 0.12), xytext=(6, 5), textcoords="offset points", fontsize=7, color=color
        )
        if control is not None:
            cx = _in_sesoi_units(control, increment=row.shown_statistic != row.statistic)
            if cx is not None:
                differs = control.verdict_word == "differs"
                ccolor = "#c00000" if differs else "#aaaaaa"
                ax.errorbar(
                    cx[0],
                    y - 0.2,
                    xerr=[[max(cx[0] - cx[1], 0)], [max(cx[2] - cx[0], 0)]] if cx[1] == cx[1] else None,
                    fmt="D",
                    color=ccolor,
                    ms=4,
                    capsize=2,
                    lw=1,
                )
                if differs:
                    ax.annotate(
                        "control differs!",
                        (cx[0], y - 0.2),
                        xytext=(6, -3),
                        textcoords="offset points",
                        fontsize=7,
                        color=ccolor,
                    )
    ax.set_yticks(ys, [p[0] for p in points], fontsize=8)
    ax.set_ylim(-0.8, len(points) - 0.3)
    ax.set_xlabel("estimate in units of its SESOI (0 = no effect; grey band = ±1 SESOI)")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", color="#222222", ls="", label="model (verdict statistic, 95% CI)"),
        Line2D([], [], marker="D", color="#aaaaaa", ls="", label="its random-init control"),
        Line2D([], [], marker="D", color="#c00000", ls="", label="control that differs"),
        Line2D([], [], marker="s", color="#666666", ls="", label="surface baseline (wording alone)"),
    ]
    ax.legend(
        handles=handles,
        fontsize=7,
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 - 0.6 / height),
        ncol=2,
    )
    return _save(fig, out)
