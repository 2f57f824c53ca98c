"""credwatch: infostealer credential-exposure monitor (core package)."""

__version__ = "0.1.0"
