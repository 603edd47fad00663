"""Flagging policy, the moderation queue, verified answers and review history."""
