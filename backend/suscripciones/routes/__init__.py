"""Subscription blueprints: `/admin/suscripciones`, `/account/subscriptions` and `/public`."""
