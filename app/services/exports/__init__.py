"""Taking a portfolio out and bringing one in: PDF, the portable archive, Leap2A, imports."""
