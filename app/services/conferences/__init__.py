"""Student-led conferences: scheduling, booking, and families' responses."""
