"""videogen: Together AI video generation as durable Django records."""

__version__ = "0.1.0"
