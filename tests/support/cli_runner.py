"""The one in-process CLI runner: `tastebot.cli.main` under Click's CliRunner isolation.

    result = invoke(["harvest", "--json"])
    result.code, result.out, result.err          # also .returncode, .stdout, .stderr

It goes through `main()` (not only the Click group), so errors become their documented exit codes
and one line on stderr exactly as in a real run. Use it wherever a subprocess is not the point; kill
tests, signal tests and import-time checks (`--help` must not import TensorFlow) need a real process:
`login_helpers.run_cli` / `start_cli`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence


@dataclass
class Result:
    code: int
    out: str
    err: str

    # The names of subprocess.CompletedProcess, so a test can swap run_cli for invoke.
    @property
    def returncode(self) -> int:
        return self.code

    @property
    def stdout(self) -> str:
        return self.out

    @property
    def stderr(self) -> str:
        return self.err

    @property
    def text(self) -> str:
        """stderr with runs of whitespace as one space."""
        return " ".join(self.err.split())

    @property
    def flat(self) -> str:
        """stderr without whitespace: rich wraps long lines, even inside a path."""
        return "".join(self.err.split())

    def astuple(self) -> tuple[int, str, str]:
        return self.code, self.out, self.err

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out[-400:]!r}, err={self.err[-800:]!r})"


def invoke(args: Sequence[str], *, input: str | None = None, env: Mapping[str, str | None] | None = None) -> Result:
    """Run `tastebot ARGS` in this process; `env` overrides variables for the run only."""
    from click.testing import CliRunner

    from tastebot.cli import main

    runner = CliRunner()
    code = 0
    with runner.isolation(input=input, env={"COLUMNS": "200", **(env or {})}) as (out, err, _mixed):
        import sys

        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return Result(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))
