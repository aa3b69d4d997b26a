"""Custom registration questions: the organizer's side (service, forms, views) and the public fields."""
