"""Support desk rules: types, support subscriptions and payments, availability and quota,
tickets and their lifecycle, comments, attachments, statistics and notifications."""
