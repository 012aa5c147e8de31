"""Licence plates: country formats (validation and position-aware correction); the reader lands later."""
