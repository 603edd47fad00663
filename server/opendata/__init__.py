"""Open data: verified answers published as JSON Lines, and imported from another instance."""
