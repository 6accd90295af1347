"""The report as a list of blocks: headings, paragraphs, tables and figures.

Below the analyses, so that each analysis can write its own report section (``register(..., section=…)``)
in its own module; ``beliefs.report.render`` turns the blocks into Markdown and HTML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    path: Path
    caption: str


Block = Heading | Paragraph | Table | Figure
