"""The event bus that carries committed changes to live subscribers."""
