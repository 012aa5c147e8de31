"""Open Safe City: open, accountable city video analytics."""

__version__ = "0.1.0"
