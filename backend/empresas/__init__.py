"""Companies (tenants, by NIT) and their per-company API keys: staff administration, the
`X-API-Key` guard for SaaS instances, and the `api-keys` CLI."""
