"""``comove serve``: the local dashboard and JSON API (needs the ``web`` extra)."""

from __future__ import annotations

import warnings
from typing import Annotated

import typer

from comove.cli.common import run_command, say, stderr_console
from comove.cli.options import ConfigOpt, StoreOpt

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


app = typer.Typer()


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to bind. Anything but loopback needs COMOVE_TOKEN set.",
        ),
    ] = DEFAULT_HOST,
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = DEFAULT_PORT,
    store: StoreOpt = None,
    config: ConfigOpt = None,
    refresh: Annotated[
        int,
        typer.Option("--refresh", min=5, help="Seconds between the page's automatic updates."),
    ] = 60,
) -> None:
    """Serve the dashboard and the JSON API from the local store (read-only; never fetches)."""

    def body(caught: list[warnings.WarningMessage]) -> None:
        try:
            import uvicorn

            from comove.web.app import create_app
        except ImportError as exc:
            say(
                stderr_console(),
                "error",
                f"comove serve needs the web extra ({exc.name} is missing): "
                "pip install -e '.[web]'",
                "red",
            )
            raise typer.Exit(1) from None
        from comove.config import load_settings

        settings = load_settings(config).with_store(store)
        web = create_app(settings, host=host, refresh_seconds=refresh, keep_warm=True)
        shown = f"[{host}]" if ":" in host else host
        stderr_console().print(
            f"comove dashboard on http://{shown}:{port}/ (store {settings.store_path.name}); "
            "Ctrl-C stops it"
        )
        uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=False)

    run_command(body)
