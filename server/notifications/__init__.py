"""E-mail notifications: reviewers hear of new and overdue items, askers of decisions.

Messages go through the ``outbox`` table and are sent by :class:`~server.notifications.
worker.Notifier`, which every app process runs when an SMTP server is set
(``GUICHET_SMTP_HOST``); rows are claimed in the database, so several processes or hosts
never send one message twice.
"""
