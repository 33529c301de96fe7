"""Use cases: the only layer that commits. Authorization goes through domain policy."""
