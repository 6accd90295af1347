"""The report's :class:`~beliefs.report.page.Page` rendered by Jinja2 templates (``templates/``) to one
self-contained HTML file and its Markdown twin."""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

from markupsafe import Markup

from beliefs.report.page import Page, VerdictTable, slug
from beliefs.report.rows import VerdictRow


def _inline(text: str) -> Markup:
    """Escaped text with `code` spans and **bold** as in Markdown (captions and paragraphs)."""
    out = html.escape(str(text), quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    return Markup(out)


def _mdcell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _verdict_cells(row: VerdictRow, table: VerdictTable) -> list[str]:
    return [table.cell(row, c.key) for c in table.columns] + [row.how]


@cache
def _environment(markdown: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("beliefs.report", "templates"),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=markdown,
        keep_trailing_newline=True,
    )
    env.filters.update(slug=slug, inline=_inline, mdcell=_mdcell, verdict_cells=_verdict_cells)
    return env


def to_html(page: Page) -> str:
    """One self-contained HTML file (figures embedded as data URIs, each linked to its full-size file)."""
    return str(_environment(False).get_template("report.html.j2").render(page=page))


def to_markdown(page: Page) -> str:
    """The Markdown twin of :func:`to_html`, figures linked relative to the report."""
    text = str(_environment(True).get_template("report.md.j2").render(page=page))
    return re.sub(r"\n{3,}", "\n\n", text)
