"""Documents: upload, listing, status and deletion, through the document lifecycle."""
