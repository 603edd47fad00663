"""The review queue for teachers, agents and admins: API and pages over review/."""
