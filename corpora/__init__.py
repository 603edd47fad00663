"""Corpora, their documents and versions, and the upload workflow."""
