"""The planes meet only where docs/architecture.md says: in catalog.py, auth.py and vocab.py.

The router never imports store/ or control/; store/ never imports either plane; the
control plane never imports the router; usage/ (the data plane's accounting and recorder)
imports nothing of store/ but its records (ids and the clock) and nothing of control/;
web_search/ (the search side of relaygate's web search) imports neither plane nor store/;
experiments/ imports neither plane (it calls the router through the entry it is handed); and
the modules both planes share import neither plane. Checked on the source's import
statements (every one, also those only for type checking), then by importing the shared
modules in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import relaygate

PACKAGE = Path(relaygate.__file__).parent
ROUTER, CONTROL, STORE = "relaygate.router", "relaygate.control", "relaygate.store"
USAGE = "relaygate.usage"
WEB_SEARCH = "relaygate.web_search"
# Where both planes meet, and what those modules stand on: none of them may import a plane.
SHARED = ("relaygate.catalog", "relaygate.auth", "relaygate.vocab", "relaygate.asgi", "relaygate.settings")
# importer (a module or package) -> what it must not import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    ROUTER: (STORE, CONTROL),
    STORE: (ROUTER, CONTROL),
    CONTROL: (ROUTER,),
    # The recorder calls a BatchWriter it is given; the store's writers implement it.
    USAGE: (STORE, CONTROL),
    # Web search's own side (backends, results, citations): the catalog holds its config.
    WEB_SEARCH: (ROUTER, CONTROL, STORE),
    # Experiments reach the router through the entry they are handed (runtime.router).
    "relaygate.experiments": (ROUTER, CONTROL),
    # Alerts read breakers through the callable they are handed (runtime.breakers.state_of).
    "relaygate.alerts": (ROUTER, CONTROL),
    **dict.fromkeys(SHARED, (ROUTER, CONTROL)),
}
# importer -> modules it may import although FORBIDDEN bans their package
EXCEPTIONS: dict[str, tuple[str, ...]] = {USAGE: ("relaygate.store.records",)}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    """Whether ``name`` is one of our modules (``from relaygate import router`` imports one)."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported(path: Path) -> set[str]:
    """Every module an import statement of the file names, relative ones made absolute."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}"))
    return names


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _sources() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if "migrations" not in path.parts]


def test_relative_imports_are_resolved_against_their_package() -> None:
    imported = _imported(PACKAGE / "control" / "admission.py")
    assert "relaygate.control.auth" in imported  # from .auth import ...
    assert "relaygate.control.auth.admit" not in imported, "a name, not a module"


def test_no_module_imports_across_the_planes_boundaries() -> None:
    violations = []
    for path in _sources():
        module = _module_name(path)
        rules = [banned for owner, banned in FORBIDDEN.items() if _within(module, owner)]
        allowed = [name for owner, names in EXCEPTIONS.items() if _within(module, owner) for name in names]
        for name in sorted(_imported(path)):
            if name in allowed:
                continue
            for banned in (prefix for rule in rules for prefix in rule):
                if _within(name, banned):
                    violations.append(f"{module} imports {name}")
    assert violations == []


def test_importing_the_shared_modules_and_the_store_loads_neither_plane() -> None:
    # One fresh interpreter imports them in turn: the first that loads a plane is named.
    script = f"""
import importlib, sys
for module in {[*SHARED, "relaygate.store.database"]!r}:
    importlib.import_module(module)
    loaded = [name for name in sys.modules if name.startswith(({ROUTER!r}, {CONTROL!r}))]
    if loaded:
        print(module, "loads", *loaded)
        break
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout == ""
