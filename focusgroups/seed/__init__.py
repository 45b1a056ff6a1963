"""Demo data of the focus groups: ``data`` (the tables) and ``loader`` (writes them)."""
