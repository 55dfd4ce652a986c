"""The licence of a company as SaaS instances ask for it: the rule, its cache, and Ed25519-signed answers."""
