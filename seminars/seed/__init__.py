"""The demo data of the seminars app: ``data`` (plain tables) and ``loader`` (writes them)."""
