"""Demo data of job shadowing: ``data`` holds the tables, ``loader`` writes them (``seed_shadowing``)."""
