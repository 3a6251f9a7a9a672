"""Load a file of the project's scripts/ folder as a module, for the tests of its diagnostics."""

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"


@functools.cache
def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as a module (registered in sys.modules: a dataclass in it looks its module up)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod
