"""A student's own work: evidence and its files, reflections, goals, the timeline and search."""
