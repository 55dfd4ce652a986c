"""Who people are and how they prove it: users and roles, passwords, TOTP two-factor,
emailed codes, sessions and tokens, route guards, throttling, the access log, registration,
recovery, the user's own account and staff user administration."""
