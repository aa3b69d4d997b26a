"""Teams: the people who run a webinar or a series with its owners (editors and viewers), invited by
email; the invitation links (for teams and for new organizer accounts); and each webinar's audit log."""
