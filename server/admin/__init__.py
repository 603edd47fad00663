"""Administration: accounts, corpora and their owners, the audit log."""
