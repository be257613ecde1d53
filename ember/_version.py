"""ember's version (the package root re-exports it as `ember.__version__`)."""

__version__ = "0.1.0"
