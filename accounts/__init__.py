"""People with an account and what they may do: users, API tokens, course memberships and
invitations, the audit log, and the permission rule.

A domain package like corpora/ and review/: it never imports server/ (nor FastAPI), so
review/ and corpora/ use its tables and rules directly instead of re-declaring them.
Citizens never have an account: they stay anonymous behind a session id.
"""
