"""nnviz: watch a small neural network learn, and compare training strategies fairly."""

__version__ = "0.1.0"
