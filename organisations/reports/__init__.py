"""The programme's own readings of the barometer: progress towards its targets, what its follow-ups say
about effect, and what its activities cost per result. Each reader uses a fixed number of queries."""
