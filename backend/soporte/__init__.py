"""The paid support desk: support types, support subscriptions, payments, tickets, comments
and attachments (today only its models)."""
