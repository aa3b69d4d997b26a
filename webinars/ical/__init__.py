"""Calendar formats, below every domain: iCalendar documents (ics) and calendar links (links)."""
