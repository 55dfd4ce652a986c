"""Company subscriptions to plans: the lifecycle for staff, a customer's own view, and the
public face (catalogue and self-service sign-up)."""
