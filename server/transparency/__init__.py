"""The public transparency page."""
