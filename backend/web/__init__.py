"""What the host serves besides the API: Swagger UI, the Angular SPA and the health probes."""
