"""Lazy package APIs (PEP 562): a package's public names imported on first use.

`import vidtoon` and `import vidtoon.io` must stay cheap — no PyAV, no torch — so the CLI's help is fast and the
training code runs where PyAV is not installed. Some public functions share their name with a submodule
(`vidtoon.restyle` the function and the package, `vidtoon.io.probe` the function and the module); the import
system binds a submodule to its parent's attribute of that name when the submodule is first imported, which
would replace the function. `lazy_api` makes the package refuse that binding for those names (the submodules stay
importable through `sys.modules`, so `from vidtoon.io.probe import VideoInfo` works as ever).
"""

from __future__ import annotations

import sys
import types
from importlib import import_module


def lazy_api(package: str, names: dict[str, str]) -> None:
    """Make `package` resolve each of `names` (public name -> defining module) on first use."""
    module = sys.modules[package]
    shadowed = {name for name in names if _is_submodule(package, name)}

    def __getattr__(name: str):
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(target), name)
        module.__dict__[name] = value  # later lookups skip __getattr__
        return value

    class _Package(types.ModuleType):
        def __setattr__(self, name: str, value) -> None:
            if name in shadowed and isinstance(value, types.ModuleType):
                return  # keep the API function, not the submodule of the same name
            super().__setattr__(name, value)

    module.__getattr__ = __getattr__
    module.__dir__ = lambda: sorted(set(module.__dict__.get("__all__", ())) | set(names))
    module.__class__ = _Package


def _is_submodule(package: str, name: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(f"{package}.{name}") is not None
    except (ImportError, ValueError):
        return False
