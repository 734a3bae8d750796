"""Imports point one way: cli -> pipelines -> temporal -> components -> base. No module imports a higher
layer, and no two modules import each other, directly or around a circle (function-level imports count too)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "vidtoon"

# The first dotted prefix that matches a module decides its layer (higher numbers sit on top).
LAYERS = [
    (5, ("vidtoon", "vidtoon.__main__", "vidtoon.cli")),
    (
        4,
        (
            "vidtoon.restyle",
            "vidtoon.animate",
            "vidtoon.train",
            "vidtoon.stabilize",
            "vidtoon.evaluate",
            "vidtoon.evaluate_fid",
            "vidtoon.preview",
            "vidtoon.stitch",
            "vidtoon.frames",
            "vidtoon.batch",
            "vidtoon.live",
            "vidtoon.compare",
        ),
    ),
    (3, ("vidtoon.temporal",)),
    (
        2,
        (
            "vidtoon.io",
            "vidtoon.models",
            "vidtoon.styles",
            "vidtoon.filters",
            "vidtoon.flow",
            "vidtoon.metrics",
            "vidtoon.faces",
            "vidtoon.tiling",
        ),
    ),
    (
        1,
        (
            "vidtoon.errors",
            "vidtoon.version",
            "vidtoon.registry",
            "vidtoon.settings",
            "vidtoon.parsing",
            "vidtoon.checks",
            "vidtoon.files",
            "vidtoon.locking",
            "vidtoon.interrupts",
            "vidtoon.cpu_threads",
            "vidtoon.progress",
            "vidtoon.device",
            "vidtoon.host",
            "vidtoon.gpus",
            "vidtoon.convert",
            "vidtoon.streaming",
            "vidtoon.lazy",
        ),
    ),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    best = None
    for rank, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > len(best[1])):
                best = (rank, prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return best[0]


def imports_of(path: Path, module: str, modules: set[str]) -> set[str]:
    """vidtoon modules that `module` imports anywhere in its file (resolved to modules, not names in them):
    `from pkg import sub` is an import of pkg.sub when that is a module, of pkg otherwise."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {name for name in found if name.startswith("vidtoon")}


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {
        name: {target for target in imports_of(path, name, set(modules)) if target in modules and target != name}
        for name, path in modules.items()
    }


def test_no_module_imports_a_higher_layer():
    upward = [
        f"{source} (layer {layer(source)}) imports {target} (layer {layer(target)})"
        for source, targets in graph().items()
        for target in targets
        if layer(target) > layer(source) and not target == "vidtoon"
    ]
    assert not upward, "\n".join(upward)


def test_no_import_circles():
    edges = graph()
    # a package's __init__ importing its own submodules is how registration works; a submodule importing its own
    # package (for a name it re-exports) is not allowed to close a circle, so both directions count
    index, low, on_stack, stack, circles, counter = {}, {}, set(), [], [], [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert not circles, f"import circles: {circles}"


def test_the_checker_sees_a_planted_upward_import():
    assert (
        layer("vidtoon.cli.restyle") > layer("vidtoon.restyle.video") > layer("vidtoon.temporal.base") > layer("vidtoon.flow.dis")
    )
    assert layer("vidtoon.flow.dis") > layer("vidtoon.errors")
    source = "import vidtoon.cli\nfrom vidtoon.restyle import restyle\n"
    tree_imports = {n.names[0].name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import)}
    assert tree_imports == {"vidtoon.cli"}
