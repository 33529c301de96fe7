"""SETS, the Smart Escalation Ticket System."""

__version__ = "0.1.0"
