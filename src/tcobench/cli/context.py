"""State shared by every command: catalog paths, the results store, debug mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import click

from tcobench.catalog import Catalog, load_catalog
from tcobench.errors import StoreError, quote
from tcobench.store import ENV_VAR, Store


@dataclass
class Context:
    catalog_paths: tuple[str, ...] = ()
    db: str | None = None
    debug: bool = False
    _store: Store | None = field(default=None, repr=False)

    @cached_property
    def catalog(self) -> Catalog:
        return load_catalog(self.catalog_paths)

    @property
    def store(self) -> Store:
        if self._store is None:
            try:
                self._store = Store.open(self.db)
            except OSError as err:  # its folder cannot be created, or the file cannot be opened
                what = quote(err.filename) if err.filename else "its file"
                raise StoreError(f"cannot open the results store ({{db}} or {ENV_VAR}, default in the user's data "
                                 f"folder): {what}: {err.strerror or err}", params=("db",)) from err
        return self._store


pass_context = click.make_pass_decorator(Context)
