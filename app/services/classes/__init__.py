"""Classes: creating them, rosters and join codes, and what a teacher sees of a class."""
