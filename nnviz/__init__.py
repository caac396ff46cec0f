"""nnviz: watch a small neural network learn, and compare training strategies fairly."""

__version__ = "0.1.0"


def version() -> str:
    """The installed distribution's version, else ``__version__`` (running from a source tree)."""
    from importlib import metadata

    try:
        return metadata.version("nnviz")
    except metadata.PackageNotFoundError:
        return __version__
