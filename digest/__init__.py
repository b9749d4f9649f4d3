"""paper-digest: a self-hosted personal research-paper email digest."""

__version__ = "0.1.0"
