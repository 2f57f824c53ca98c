"""Where the configuration file is looked for by default: its own module, so the command line
names it without loading the configuration models."""

from pathlib import Path

DEFAULT_CONFIG = Path("credwatch.toml")
