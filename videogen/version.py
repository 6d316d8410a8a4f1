"""The package version, in a module that imports nothing: the client (no Django) and the
webhook sender read it from here, so neither has to import the :mod:`videogen` facade."""

__version__ = "0.1.0"
