"""`tastebot report`: an HTML page with plots about the latest (or a named) model."""

from __future__ import annotations

import click

from tastebot.cli import settings_from


@click.command()
@click.option("--run", "run_id", metavar="RUN_ID", help="The model run to report on (`tastebot models` lists them). [default: the latest]")
@click.option("--out", "out_dir", type=click.Path(path_type=str), metavar="DIR",
              help="Folder to write report.html and its PNG plots into. [default: TASTEBOT_HOME/reports/<run-id>/]")
@click.option("--open", "open_browser", is_flag=True, help="Open the report in the web browser when it is written.")
@click.option("--json", "as_json", is_flag=True, help="Print the paths of the page and its plots as JSON on stdout.")
@click.pass_context
def report(ctx, run_id, out_dir, open_browser, as_json) -> None:
    """Write an HTML report about your taste model, with plots.

    \b
    The page shows what `recommend` uses: the taste model (the MLP and a
    random forest, averaged) and the ranking this run fitted; the taste
    model's scores on the test part beside its MLP alone and the baselines
    (table, words, ROC and precision-recall curves); the training curves,
    explained; liked vs disliked audio features; the scores of the last
    recommendations; and where the features came from. Each plot is
    embedded in the page and also saved as a PNG beside it. The page is
    self-contained: it works offline and can be moved or mailed.
    It reads the model's metrics.json and the store (read-only), never
    your Spotify login, and writes only the report folder.

    \b
    Exit codes: 0 written, 2 bad input (--out is a file, --run names no
    run), 3 no trained model yet (run `tastebot train`), 74 a damaged
    model run or the report cannot be written.
    """
    from tastebot import console
    from tastebot.report import write_report

    settings = settings_from(ctx, reads_only=True)
    with console.err.status("writing the report", spinner="dots") if console.err.is_terminal else _nothing() as status:
        def say(text: str) -> None:
            if status is not None:
                status.update(f"writing the report: {text}")

        result = write_report(settings, run=run_id, out_dir=out_dir, progress=say)
    for text in result.missing:
        console.info(f"[dim]not in the report: {console.escape(text)}[/]")
    console.success(f"Report on model {console.escape(result.run_id)} ({len(result.plots)} plots) written to:")
    # The result, alone on stdout: `xdg-open "$(tastebot report)"`; with --json, on stderr beside the JSON.
    click.echo(str(result.html_path), err=as_json)
    if open_browser:
        import webbrowser

        if not webbrowser.open(result.html_path.resolve().as_uri()):
            console.warn("no web browser found; open the file above yourself.")
    if as_json:
        console.print_json(result.as_dict())


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None
