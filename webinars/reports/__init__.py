"""Reports for organizers and their funders: numbers per webinar and per series, with charts."""
