"""Identity rules: passwords, TOTP, emailed codes, sessions and tokens, sign-in, registration,
recovery, the user's own account, staff user administration, throttling and the access log."""
