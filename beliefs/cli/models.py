"""``beliefs models``: list the embedded models and prepare one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from beliefs.cli._common import console, err_console, handle_errors

app = typer.Typer(
    help="List embedded models and prepare them (verify, de-quantize, cache).", no_args_is_help=True
)


@app.command("list")
def list_() -> None:
    """Embedded models: name, backend, layers, width, and whether each is ready here or how to get it."""
    from beliefs.models import list_models

    with handle_errors():
        table = Table("name", "backend", "layers", "width", "status", "description")
        for m in list_models():
            table.add_row(m.name, m.backend, str(m.n_layers), str(m.width), m.status, m.description)
        console.print(table)


@app.command("pull")
def pull(name: Annotated[str, typer.Argument(help="Embedded model name, e.g. smollm2-135m.")]) -> None:
    """Prepare an embedded model once: verify its sha256, de-quantize, cache as safetensors."""
    from beliefs.models import pull as pull_model

    with handle_errors(), err_console.status(f"preparing {name}") as status:
        folder = pull_model(name, progress=lambda msg: status.update(msg))
    console.print(f"{name} ready in {folder}")
