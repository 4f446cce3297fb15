"""smallest-cli: the command line for the Smallest AI voice API."""

__version__ = "0.1.0"
