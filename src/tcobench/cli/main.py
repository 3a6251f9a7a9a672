"""Entry point: ``tcobench`` and ``python -m tcobench``."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from tcobench.credentials import redact_text
from tcobench.errors import InstallError, TcobenchError, close_matches

# command name -> "module:attribute"; modules are imported only when their command runs
COMMANDS = {
    "catalog": "tcobench.cli.catalog:catalog",
    "runs": "tcobench.cli.runs:runs",
    "predict": "tcobench.cli.predict:predict",
    "validate": "tcobench.cli.validate:validate",
    "compare": "tcobench.cli.compare:compare",
    "sweep": "tcobench.cli.sweep:sweep",
    "plan": "tcobench.cli.plan:plan",
    "train": "tcobench.cli.train:train",
    "audit": "tcobench.cli.audit:audit",
    "bench": "tcobench.cli.bench:bench",
    "report": "tcobench.cli.report:report",
    "demo": "tcobench.cli.demo:demo",
    "design": "tcobench.cli.design:design",
    "probe": "tcobench.cli.measure:probe",
    "measure": "tcobench.cli.measure:measure",
    "calibrate": "tcobench.cli.measure:calibrate",
}


def command_flags(command: click.Command | None) -> dict[str, str]:
    """Parameter name -> flag for a command and every subcommand under it ('tp' -> '--tp')."""
    out: dict[str, str] = {}
    stack = [command] if command is not None else []
    while stack:
        cmd = stack.pop()
        for p in cmd.params:
            if isinstance(p, click.Option) and p.name:
                long = [o for o in p.opts if o.startswith("--")]
                out.setdefault(p.name, (long or p.opts)[0])
        if isinstance(cmd, click.Group):
            stack.extend(cmd.commands.values())
    return out


class LazyGroup(click.Group):
    invoked: click.Command | None = None  # the command this run resolved: its flags name a library error's parameters

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._load(name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        """The command ``name``, imported now; None for a name not in COMMANDS. A command whose module is
        missing is a broken install: InstallError, never a command that silently is not there."""
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        try:
            return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
        except ModuleNotFoundError as err:
            if err.name == module:
                raise InstallError(f"command {name!r} cannot load: its module {module} is missing; "
                                   "reinstall tcobench") from err
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # the reader went away (`| head`): stop quietly with 128 + SIGPIPE, as shell tools do
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so that Python's flush at exit does not raise again
            sys.exit(141)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        self.invoked = self.get_command(ctx, name) if name and not name.startswith("-") else None
        if name and not name.startswith("-") and self.invoked is None:
            hint = close_matches(name, self.list_commands(ctx))
            ctx.fail(f"no command {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else f"; commands: {', '.join(self.list_commands(ctx))}"))
        return super().resolve_command(ctx, args)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """--version, with the version read only when asked: this module imports nothing slow, so that a Ctrl-C while
    the program loads lands inside main's error handling."""
    if value and not ctx.resilient_parsing:
        from tcobench import __version__

        click.echo(f"tcobench, version {__version__}")
        ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("--catalog", "catalog_paths", multiple=True, metavar="PATH",
              help="Extra catalog file or folder (repeatable); also TCOBENCH_CATALOG.")
@click.option("--db", metavar="PATH_OR_URL", help="Results store: a SQLite path or postgresql:// URL; also TCOBENCH_DB.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, catalog_paths: tuple[str, ...], db: str | None, debug: bool) -> None:
    """tcobench: what AI work really costs on a given accelerator, and whether a claim about it is true."""
    from tcobench.cli.context import Context  # the catalog and the store load here, inside main's error handling

    ctx.obj = Context(catalog_paths=catalog_paths, db=db, debug=debug)


def error_message(err: TcobenchError) -> str:
    """``err`` as the CLI prints it: its parameters named by the invoked command's flags, or the top-level ones
    (``catalog_paths`` -> ``--catalog``), with any credential it quotes hidden."""
    return redact_text(err.render({**command_flags(cli), **command_flags(cli.invoked)}))


def one_line(text: str) -> str:
    """An error message on one line, however it was written (a third-party message may hold newlines)."""
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> Any:
    """Run the command line. Exit codes (docs/architecture.md, "Errors"): 0 done; 1 a failure of tcobench, the
    store or the system (an unwritable output, a full disk; silently when standard output closes early, as under
    ``| head``, the way rich's console does); 2 bad input; 130 interrupted (Ctrl-C). Each failure is one line on
    stderr, ``ErrorType: message``; ``--debug`` shows the traceback instead."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    cli.invoked = None  # set again when a command resolves; never a previous in-process run's
    try:
        result = cli.main(args=argv, prog_name="tcobench", standalone_mode=False)
        sys.stdout.flush()  # a full disk or a closed pipe is reported here, not by the interpreter at exit
        return result
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as err:
        sys.exit(err.exit_code)
    except click.ClickException as err:
        if debug:
            raise
        kind = "UsageError" if isinstance(err, click.UsageError) else type(err).__name__
        click.echo(f"{kind}: {one_line(redact_text(err.format_message()))}", err=True)  # click quotes a value it could not read
        sys.exit(err.exit_code)
    except TcobenchError as err:
        if debug:
            raise
        click.echo(f"{type(err).__name__}: {one_line(error_message(err))}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:
        _drop_stdout()
        sys.exit(141)  # nobody reads on (`| head`): no message, 128 + SIGPIPE as shell tools give (cli/render's console too)
    except OSError as err:  # the system refused a write or a read no input check foresaw: one line, not a traceback
        if debug:
            raise
        _drop_stdout()
        where = f" ({err.filename})" if err.filename else ""
        click.echo(f"{type(err).__name__}: {one_line(err.strerror or str(err))}{where}", err=True)
        sys.exit(1)


def _drop_stdout() -> None:
    """Point standard output at /dev/null when it cannot take what is left, so that the interpreter's own flush at
    exit does not fail a second time with a traceback ("Exception ignored ... BrokenPipeError")."""
    try:
        sys.stdout.flush()
    except OSError:
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # no file descriptor (a test's captured stdout)
            pass
