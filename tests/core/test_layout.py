"""The house rules of backend/, read from the source: `core` imports no domain, a domain never
imports another domain's routes or schemas, and nothing imports inside a function."""
from __future__ import annotations

import ast
from pathlib import Path

from backend.config import ROOT_DIR

BACKEND = ROOT_DIR / "backend"
DOMAINS = sorted(p.name for p in BACKEND.iterdir() if (p / "__init__.py").is_file() and p.name != "core")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(absolute module imported, line, inside a function) for every import of `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                base = package[: len(package) - child.level + 1] if child.level else []
                module = ".".join([*base, child.module] if child.module else base)
                names = [f"{module}.{alias.name}" for alias in child.names]
                found.extend((name, child.lineno, in_function) for name in [module, *names])
            elif isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, in_function) for alias in child.names)
            visit(child, nested)

    visit(tree, False)
    return found


SOURCES = sorted(BACKEND.rglob("*.py"))


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "backend" and parts[1] in DOMAINS else None


def test_the_domains_are_there():
    assert {"identity", "empresas", "catalogo", "suscripciones", "licencia", "location", "soporte",
            "web"} <= set(DOMAINS)
    for flat in ("services", "routes", "schemas", "models", "auth"):
        assert not (BACKEND / flat).exists(), f"backend/{flat} should not exist any more"


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(BACKEND)}:{line}"


def test_core_imports_no_domain():
    core = [p for p in SOURCES if p.relative_to(BACKEND).parts[0] == "core"]
    assert len(core) > 10
    offending = [(_where(path, line), module) for path in core
                 for module, line, _ in _imports(path) if _domain_of(module)]
    assert offending == []


def test_no_domain_imports_another_domains_routes_or_schemas():
    offending = []
    for path in SOURCES:
        own = _domain_of(_module_name(path))
        if own is None:
            continue  # the factory, config, extensions, commands: they know every domain
        for module, line, _ in _imports(path):
            other = _domain_of(module)
            rest = module.split(".")[2:3]
            if other and other != own and rest and (rest[0].startswith("routes")
                                                    or rest[0] == "schemas"):
                offending.append((_where(path, line), module))
    assert offending == []


def test_no_import_inside_a_function():
    offending = [(_where(path, line), module) for path in SOURCES
                 for module, line, inside in _imports(path) if inside]
    assert offending == []
