"""Getting prices in: the bars contract, calendars, demo data."""
