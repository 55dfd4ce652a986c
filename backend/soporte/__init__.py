"""The paid support desk: support types, support subscriptions and payments, the availability
rule and quota, tickets with comments and attachments (local or S3 storage), statistics,
email notifications, the staff routes and the internal API for the SaaS instances."""
