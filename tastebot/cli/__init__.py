"""The command line: thin commands that parse, call one library function, and render.

Commands live in modules beside this one and are imported only when used, so `tastebot --help`
stays fast and never imports TensorFlow (only tastebot.models.mlp does).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from tastebot import __version__
from tastebot.errors import TastebotError

# command name -> "module:attribute", imported when the command is used.
COMMANDS: dict[str, str] = {
    "login": "tastebot.cli.auth:login",
    "status": "tastebot.cli.auth:status",
    "logout": "tastebot.cli.auth:logout",
    "harvest": "tastebot.cli.harvest:harvest",
    "features": "tastebot.cli.harvest:features",
    "train": "tastebot.cli.train:train",
    "models": "tastebot.cli.train:models",
    "recommend": "tastebot.cli.recommend:recommend",
    "corpus": "tastebot.cli.recommend:corpus",
    "history": "tastebot.cli.history:history",
    "exclude": "tastebot.cli.exclude:exclude",
    "report": "tastebot.cli.report:report",
    "demo": "tastebot.cli.demo:demo",
    "sandbox": "tastebot.cli.sandbox:sandbox",
}


HOME_HELP = "Folder for all of tastebot's state (store, models, reports). [env: TASTEBOT_HOME]"


def _home_after_command(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """`tastebot status --home DIR` means `tastebot --home DIR status`, as gh takes its global flags
    after the command too."""
    if value is not None:
        ctx.find_root().ensure_object(dict)["home"] = value


def _accept_home(command: click.Command) -> click.Command:
    """Give a command (and a group's subcommands) the global --home, unless it has its own (demo)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_home(sub)
        return command
    if not any("--home" in p.opts for p in command.params):
        command.params.append(click.Option(["--home"], type=click.Path(file_okay=False, path_type=str),
                                           expose_value=False, callback=_home_after_command, help=HOME_HELP))
    return command


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self._load(cmd_name)
        return _accept_home(command) if command is not None else None

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="tastebot")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=str),
    # TASTEBOT_HOME is read by load_settings (with ./.env), so a bad value is reported under its own name.
    help=HOME_HELP + " Also taken after the command: `tastebot status --home DIR`.",
)
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """Learn your music taste from your Spotify library, on your own machine, and make playlists
    of music you have not heard.

    \b
    Typical use:
      tastebot login
      tastebot harvest
      tastebot train
      tastebot recommend --create-playlist

    Try it without a Spotify account: `tastebot demo`.
    """
    ctx.ensure_object(dict)
    ctx.obj["home"] = home


_current_home: list[str] = []  # the home the running command uses, for the Ctrl-C message


def settings_from(ctx: click.Context, *, reads_only: bool = False, **overrides: Any):
    """Settings for a command: the group's --home plus the command's own options. A command that only
    reads (`reads_only`) refuses a named home that does not exist rather than create an empty one."""
    from tastebot.settings import load_settings

    root = ctx.find_root()
    home = (root.obj or {}).get("home")
    settings = load_settings(home=home, **overrides)
    if reads_only:
        settings.require_home()
    _current_home[:] = [str(settings.home)]
    return settings


def _interrupted_message() -> str:
    if _current_home:
        return (f"Interrupted. Everything done before Ctrl-C is saved in {_current_home[0]}; "
                "run the command again to go on from there.")
    return "Interrupted before anything was changed."


def main(argv: list[str] | None = None) -> None:
    """Entry point: library errors become one line on stderr and a documented exit code."""
    from tastebot import console

    console.install_notices()
    try:
        rv = cli.main(args=argv, prog_name="tastebot", standalone_mode=False)
    except TastebotError as exc:
        console.error(exc.message, exc.hint)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        console.err.print(console.escape(_interrupted_message()))
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.err.print(console.escape(_interrupted_message()))
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("TASTEBOT_DEBUG"):
            raise
        console.error(
            f"unexpected {type(exc).__name__} inside tastebot.",
            "Run again with TASTEBOT_DEBUG=1 to see the traceback, and please report it.",
        )
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


def run() -> None:
    """The `tastebot` command itself (the console script, `python -m tastebot`): `main`, then the
    process ends without the interpreter's teardown, freeing every module's objects one by one when
    nothing is left to do: 1.5 s after a training (TensorFlow's), 0.25 s of a 1.5 s weekly recommend.
    The exit handlers still run (atexit: logging, temporary folders, thread pools) and the output is
    flushed first. In-process callers (tests, scripts) call `main`, which ends normally."""
    import atexit

    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # as Python's own exit: the message on stderr, status 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`tastebot recommend | head`): nothing to write to
            pass
    os._exit(code if isinstance(code, int) else 0)
