"""The report's blocks (:mod:`beliefs.results.document`) rendered to Markdown and to one self-contained HTML
file."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from beliefs.results.document import Block, Heading, Paragraph, Table


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.3g}"
    return str(value)


def to_markdown(blocks: list[Block], base: Path) -> str:
    """Markdown with figures linked relative to ``base``."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}\n")
        elif isinstance(b, Paragraph):
            out.append(b.text + "\n")
        elif isinstance(b, Table):
            cols = [str(c) for c in b.frame.columns]
            lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            for row in b.frame.itertuples(index=False):
                lines.append("| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |")
            if b.caption:
                out.append(f"*{b.caption}*\n")
            out.append("\n".join(lines) + "\n")
        else:
            out.append(f"![{b.caption}]({b.path.relative_to(base).as_posix()})\n\n*{b.caption}*\n")
    return "\n".join(out)


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0 2em}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:0.85em;color:#555}code{background:#f5f5f5;padding:0 3px}
"""


def to_html(blocks: list[Block], title: str) -> str:
    """One HTML file; figures are embedded as base64 PNG."""
    out = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
    ]
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif isinstance(b, Paragraph):
            text = html.escape(b.text)
            parts = text.split("`")
            text = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
            out.append(f"<p>{text}</p>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in b.frame.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
                for row in b.frame.itertuples(index=False)
            )
            cap = f"<caption>{html.escape(b.caption)}</caption>" if b.caption else ""
            out.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        else:
            data = base64.b64encode(b.path.read_bytes()).decode("ascii")
            out.append(
                f"<figure><img alt='{html.escape(b.caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(b.caption)}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out)
