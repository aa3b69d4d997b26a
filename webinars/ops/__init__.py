"""Running the service: health checks, metrics, structured logs and the configuration check."""
