"""vidtoon's version (a base-level module: anything may import it)."""

__version__ = "0.1.0"
