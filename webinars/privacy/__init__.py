"""Personal data: an attendee's copy of it, erasure on request, and the retention purge."""
