"""People and their accounts: creating, signing in, passwords, throttling, the audit log."""
