"""Option parsers shared by commands: durations with units, integer lists and ranges."""

from __future__ import annotations

import click

from tcobench import units
from tcobench.errors import UnitError


class Duration(click.ParamType):  # type: ignore[type-arg]  # ParamType is generic only in click stubs newer than the pinned range
    """'50ms', '0.2 s', '2s' -> seconds (float). A bare number is an error: say the unit."""

    name = "duration"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, float):
            return value
        flag = "/".join(param.opts) if param is not None else "duration"
        try:
            text = str(value).strip()
            return units.parse(text if not text.replace(".", "", 1).isdigit() else text, "s", where=flag)
        except UnitError as err:
            self.fail(str(err), param, ctx)


DURATION = Duration()
