"""One module of checks per lab."""
