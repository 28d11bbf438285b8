"""OneRoster: importing a school's roster from CSV files or a OneRoster REST service, keyed by sourcedId."""
