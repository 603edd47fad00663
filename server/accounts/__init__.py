"""One's own account: signing in and out, password, API tokens."""
