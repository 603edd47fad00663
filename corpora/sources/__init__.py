"""Sources that keep a corpus current by themselves: a website, a folder, a WebDAV share.

- models.py: the sources, the documents each brought in, and the record of each run;
- repository.py: adding (checked), listing, removing, the lease (one run at a time);
- fetching.py: what a reader reports per page or file; website.py, folder.py, webdav.py;
- secrets.py: credentials encrypted at rest;
- sync.py: a run, every change through :class:`corpora.lifecycle.DocumentLifecycle`.
"""
