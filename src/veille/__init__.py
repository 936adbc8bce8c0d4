"""veille: French-first news monitoring."""

__version__ = "0.1.0"
