"""Sources of a corpus (website, folder, WebDAV share) and their synchronisation runs."""
