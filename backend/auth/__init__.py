"""Authentication core shared by every blueprint: tokens, sessions, role checks."""
