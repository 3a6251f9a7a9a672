"""Find, parse and validate catalog files into a Catalog of frozen records.

Files: the package's ``data/`` folder, then every file or folder named in ``TCOBENCH_CATALOG``
(separated by ``os.pathsep``) or passed as ``catalog_paths``. A file holds any mix of ``[hardware.<id>]``,
``[system.<id>]``, ``[model.<id>]``, ``[cost.<id>]`` (a cost basis), ``[workload.<id>]``, ``[runtime.<id>]`` and
``[source.<id>]`` tables. Every problem is reported with the
file, the key path, the bad value and what was expected.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tcobench.catalog.design import Design, Dram, Node, Packaging
from tcobench.catalog.schema import ID, CostBasis, Efficiency, Hardware, Model, Runtime, Source, System, Workload
from tcobench import checks
from tcobench.errors import CatalogError, InputError, UnknownIdError, close_matches

ENV_VAR = "TCOBENCH_CATALOG"
KINDS: dict[str, type[BaseModel]] = {"hardware": Hardware, "system": System, "model": Model, "source": Source,
                                     "efficiency": Efficiency, "cost": CostBasis, "workload": Workload, "runtime": Runtime,
                                     "node": Node, "packaging": Packaging, "dram": Dram, "design": Design}
PLURAL = {"hardware": "hardware", "system": "systems", "model": "models", "source": "sources",
          "cost": "cost bases", "workload": "workloads", "runtime": "runtimes", "node": "process nodes",
          "packaging": "packagings", "dram": "stacked memories", "design": "designs"}
R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class Catalog:
    hardware: Mapping[str, Hardware]
    systems: Mapping[str, System]
    models: Mapping[str, Model]
    sources: Mapping[str, Source]
    files: tuple[str, ...] = field(default=())
    costs: Mapping[str, CostBasis] = field(default_factory=dict)
    workloads: Mapping[str, Workload] = field(default_factory=dict)
    efficiency: Mapping[str, Efficiency] = field(default_factory=dict)
    runtimes: Mapping[str, Runtime] = field(default_factory=dict)
    nodes: Mapping[str, Node] = field(default_factory=dict)  # silicon: process nodes, packagings, memories, designs
    packagings: Mapping[str, Packaging] = field(default_factory=dict)
    drams: Mapping[str, Dram] = field(default_factory=dict)
    designs: Mapping[str, Design] = field(default_factory=dict)

    def get_hardware(self, name: str, where: str = "") -> Hardware:
        return _lookup(self.hardware, "hardware", name, where)

    def get_system(self, name: str, where: str = "") -> System:
        return _lookup(self.systems, "system", name, where)

    def get_model(self, name: str, where: str = "") -> Model:
        return _lookup(self.models, "model", name, where)

    def get_source(self, name: str) -> Source:
        return _lookup(self.sources, "source", name, "")

    def get_cost(self, name: str, where: str = "") -> CostBasis:
        return _lookup(self.costs, "cost basis", name, where)

    def get_workload(self, name: str, where: str = "") -> Workload:
        return _lookup(self.workloads, "workload", name, where)

    def get_runtime(self, name: str, where: str = "") -> Runtime:
        return _lookup(self.runtimes, "runtime", name, where)

    def model(self, ref: str, where: str = "") -> Model:
        """A model by id, by a catalog file that defines one, or by a Hugging Face config.json path."""
        if _is_path(ref):
            path = Path(ref)
            if path.suffix == ".json" or path.is_dir():
                from tcobench.catalog.hf import load_hf_config

                return load_hf_config(path)
            rec = self._from_file("model", path, where)
            assert isinstance(rec, Model)  # _from_file looked in the models table
            return rec
        return self.get_model(ref, where)

    def hardware_ref(self, ref: str, where: str = "") -> Hardware:
        """Hardware by id or by a catalog file that defines it (a hypothetical chip, say)."""
        if not _is_path(ref):
            return self.get_hardware(ref, where)
        rec = self._from_file("hardware", Path(ref), where)
        assert isinstance(rec, Hardware)  # _from_file looked in the hardware table
        return rec

    def _from_file(self, kind: str, path: Path, where: str) -> Hardware | System | Model:
        if not path.is_file():
            raise CatalogError(f"{where or kind} file {str(path)!r} does not exist")
        files = [Path(f) for f in self.files if Path(f).resolve() != path.resolve()] + [path]
        cat = _build(files)
        tables: dict[str, Mapping[str, Hardware | System | Model]] = {"hardware": cat.hardware, "model": cat.models,
                                                                        "system": cat.systems}
        table = tables[kind]
        mine: list[Hardware | System | Model] = [r for r in table.values() if Path(r.origin).resolve() == path.resolve()]
        if len(mine) != 1:
            raise CatalogError(f"{path}: expected exactly one [{kind}.<id>] table, found {len(mine)}"
                               + (f" ({', '.join(r.id for r in mine)}); pass one id instead" if mine else ""))
        return mine[0]

    def find(self, name: str, where: str = "") -> Hardware | System | Model:
        """Any record by id, searching hardware, systems, then models."""
        for table in (self.hardware, self.systems, self.models):
            if name.lower() in table:
                return table[name.lower()]
        known = [*self.hardware, *self.systems, *self.models]
        raise UnknownIdError("catalog id", name, known, where)


def _lookup(table: Mapping[str, R], kind: str, name: str, where: str) -> R:
    try:
        return table[name.lower()]
    except KeyError:
        raise UnknownIdError(kind, name, table, where) from None


def _is_path(ref: str) -> bool:
    return ref.endswith((".toml", ".json")) or "/" in ref or Path(ref).is_dir()


def builtin_dir() -> Path:
    return Path(str(resources.files("tcobench.catalog").joinpath("data")))


def catalog_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every .toml file under the given files/folders, in a stable order."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(f.resolve() for f in p.rglob("*.toml") if f.is_file())
        elif p.is_file():
            yield p.resolve()
        else:
            raise CatalogError(f"catalog path {str(p)!r} does not exist")


def user_paths(catalog_paths: Iterable[str | Path] = ()) -> list[str | Path]:
    """The files and folders named in ``TCOBENCH_CATALOG``, then ``catalog_paths``."""
    env = [p for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    return [*env, *catalog_paths]


def load_catalog(catalog_paths: Iterable[str | Path] = (), *, builtin: bool = True) -> Catalog:
    """The shipped catalog plus the user's files (``TCOBENCH_CATALOG``, then ``catalog_paths``); raises
    CatalogError listing every problem."""
    user = user_paths(catalog_paths)
    for p in user:
        if not (Path(p).is_dir() or Path(p).is_file()):
            raise CatalogError(f"catalog path {repr(str(p))} does not exist (from {ENV_VAR} or {{catalog_paths}})",
                               params=("catalog_paths",))
    paths: list[str | Path] = [*([builtin_dir()] if builtin else []), *user]
    files = list(dict.fromkeys(catalog_files(paths)))
    return _build(files)


def lint(paths: Iterable[str | Path]) -> tuple[Catalog, list[str]]:
    """Validate the user's files against the shipped catalog; returns the problems instead of raising."""
    try:
        user = list(catalog_files(paths))
    except CatalogError as err:
        return Catalog({}, {}, {}, {}), [str(err)]  # nothing loaded
    files = list(dict.fromkeys([*catalog_files([builtin_dir()]), *user]))
    return _assemble(files)


def _build(files: list[Path]) -> Catalog:
    """The catalog from ``files``; raises CatalogError naming the first problem (and how many more)."""
    cat, problems = _assemble(files)
    if problems:
        more = f" (and {len(problems) - 1} more; run 'tcobench catalog lint' to see all)" if len(problems) > 1 else ""
        raise CatalogError(problems[0] + more)
    return cat


def _assemble(files: list[Path]) -> tuple[Catalog, list[str]]:
    """Every record of ``files`` that validates, and every problem found (none raised)."""
    tables: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
    origin: dict[tuple[str, str], Path] = {}
    problems: list[str] = []
    for path in files:
        for kind, rid, raw in _entries(path, problems):
            if (kind, rid) in origin:
                problems.append(f"{path}: {kind}.{rid}: defined twice (also in {origin[kind, rid]})")
                continue
            rec = _validate(KINDS[kind], kind, rid, raw, path, problems)
            if rec is not None:
                origin[kind, rid] = path
                tables[kind][rid] = rec
    _check_references(tables, problems)
    cat = Catalog(hardware=tables["hardware"], systems=tables["system"], models=tables["model"],
                  sources=tables["source"], files=tuple(map(str, files)), efficiency=tables["efficiency"],
                  costs=tables["cost"], workloads=tables["workload"], runtimes=tables["runtime"], nodes=tables["node"],
                  packagings=tables["packaging"], drams=tables["dram"], designs=tables["design"])
    return cat, problems


def _entries(path: Path, problems: list[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    try:
        doc = read_toml(path)
    except InputError as err:
        problems.append(str(err))
        return
    for kind, entries in doc.items():
        if kind not in KINDS:
            hint = close_matches(kind, KINDS)
            problems.append(f"{path}: unknown table [{kind}]; expected one of {', '.join(KINDS)}"
                            + (f"; did you mean [{hint[0]}]?" if hint else ""))
            continue
        if not isinstance(entries, dict):
            problems.append(f"{path}: {kind} = {entries!r}: expected tables like [{kind}.<id>]")
            continue
        for rid, raw in entries.items():
            if not ID.match(rid):
                problems.append(f"{path}: {kind}.{rid}: id must be lower-case letters, digits, '.' and '-'")
            elif not isinstance(raw, dict):
                problems.append(f"{path}: {kind}.{rid} = {raw!r}: expected a table")
            elif raw and all(isinstance(v, dict) for v in raw.values()) and not set(raw) & set(KINDS[kind].model_fields):
                sub = next(iter(raw))
                problems.append(f"{path}: [{kind}.{rid}.{sub}]: TOML split an id containing '.' into nested tables; "
                                f'quote the id: [{kind}."{rid}.{sub}"]')
            else:
                yield kind, rid, raw


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; InputError naming the file when it cannot be read, is not UTF-8 (with the offset of
    the bad byte), is not TOML, or nests too deeply to read."""
    text = checks.read_text(path, "file")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML: {err}") from err
    except RecursionError as err:
        raise InputError(f"{path}: not valid TOML: nested too deeply to read") from err


def _validate(cls: type[R], kind: str, rid: str, raw: dict[str, Any], path: Path, problems: list[str]) -> R | None:
    data = {**raw, "id": rid}
    if "origin" in cls.model_fields:
        data["origin"] = str(path)
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        for e in err.errors():
            problems.append(_describe(e, cls, kind, rid, path))
        return None


def _describe(e: Any, cls: type[BaseModel], kind: str, rid: str, path: Path) -> str:
    loc = [str(x) for x in e["loc"] if not str(x).startswith("function-")]
    key = ".".join([kind, rid, *loc])
    msg = str(e["msg"]).removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        fields = _fields_at(cls, loc[:-1])
        hint = close_matches(loc[-1], fields)
        return f"{path}: {key}: unknown key" + (f"; did you mean {hint[0]!r}?" if hint else f"; expected one of {', '.join(sorted(fields))}")
    if e["type"] == "missing":
        return f"{path}: {key}: required key is missing"
    bad = e.get("input")
    shown = f" = {bad!r}" if not isinstance(bad, dict) else ""
    return f"{path}: {key}{shown}: {msg}"


def _fields_at(cls: type[BaseModel], loc: list[str]) -> list[str]:
    current: Any = cls
    for part in loc:
        try:
            ann = current.model_fields[part].annotation
        except (AttributeError, KeyError):
            return []
        current = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)), ann)
    return [f for f in getattr(current, "model_fields", {}) if f not in ("id", "origin")]


def _check_references(tables: dict[str, dict[str, Any]], problems: list[str]) -> None:
    sources = tables["source"]
    for kind in ("hardware", "system", "model", "efficiency", "cost", "workload", "runtime", "node", "packaging", "dram"):
        for rid, rec in tables[kind].items():
            refs = {path: fig.source for path, fig in rec.figures().items()} if hasattr(rec, "figures") else {}
            if kind in ("workload", "runtime"):
                refs["source"] = rec.source
            if kind == "runtime" and rec.context_attention_source is not None:
                refs["context_attention_source"] = rec.context_attention_source
            if kind == "runtime":
                refs.update({name: fig.source for name in ("frontend", "held_streams", "max_num_seqs")
                             if (fig := getattr(rec, name)) is not None})
            if kind == "runtime" and rec.allreduce_source is not None:
                refs["allreduce_source"] = rec.allreduce_source
            if kind == "runtime":
                refs.update({name: b.source for name in ("decode_batch_bucket", "prompt_bucket", "kv_block_bucket")
                             if (b := getattr(rec, name)) is not None})
                if rec.decode_kv_source is not None:
                    refs["decode_kv_source"] = rec.decode_kv_source
            if kind == "runtime" and rec.tensor_parallel_source is not None:
                refs["tensor_parallel_source"] = rec.tensor_parallel_source
            if kind == "model":
                refs["source"] = rec.source
                for name in ("published_params", "published_active_params"):
                    if getattr(rec, name) is not None:
                        refs[name] = getattr(rec, name).source
            if kind == "hardware":
                refs.update({f"cloud[{i}].source": c.source for i, c in enumerate(rec.cloud)})
            for path, src in refs.items():
                if src not in sources:
                    hint = close_matches(src, sources)
                    problems.append(f"{rec.origin}: {kind}.{rid}.{path}: source {src!r} is not defined in any [source.<id>] table"
                                    + (f"; did you mean {hint[0]!r}?" if hint else ""))
    for rid, system in tables["system"].items():
        if system.accelerator not in tables["hardware"]:
            hint = close_matches(system.accelerator, tables["hardware"])
            problems.append(f"{system.origin}: system.{rid}.accelerator = {system.accelerator!r}: unknown hardware id"
                            + (f"; did you mean {hint[0]!r}?" if hint else ""))
