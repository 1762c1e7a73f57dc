"""``comove alerts test``: a test message to every configured channel."""

from __future__ import annotations

import warnings

import typer

from comove.cli.common import run_command, stderr_console
from comove.cli.options import ConfigOpt, StoreOpt

alerts_app = typer.Typer(help="Alert channels: send a test message.", no_args_is_help=True)
app = typer.Typer()


@alerts_app.command("test")
def alerts_test(
    store: StoreOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Send a test message to every configured channel and say which worked."""
    console = stderr_console()

    def body(caught: list[warnings.WarningMessage]) -> int:
        from comove.alerts import build_notifiers, deliver, make_test_alert
        from comove.config import load_settings

        settings = load_settings(config).with_store(store)
        if not settings.alerts.channels:
            console.print(
                "no channels configured ([[alerts.channels]] in comove.toml): "
                "printing to the console",
            )
        notifiers = build_notifiers(settings)
        results = deliver(
            [make_test_alert()],
            notifiers,
            settings.store_path,
            retries=settings.alerts.retries,
            backoff=settings.alerts.backoff,
            skip_sent=False,
        )
        for result in results:
            if result.status == "sent":
                typer.echo(f"{result.channel}: sent")
            else:
                typer.echo(f"{result.channel}: FAILED: {result.error}")
        return 0 if all(r.status == "sent" for r in results) else 3

    code = run_command(body)
    if code:
        raise typer.Exit(code)


app.add_typer(alerts_app, name="alerts")
