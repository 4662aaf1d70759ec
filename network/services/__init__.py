"""The domain: every rule, every write, every query that matters."""
