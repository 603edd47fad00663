"""Web security in one place: session cookie, CSRF, security headers, rate limits.

``install.install_security(app, settings)`` adds, from the outside in:

1. security headers on every response (a Content-Security-Policy without inline script,
   which htmx respects once configured by the ``htmx-config`` meta tag of base.html),
   see headers.py;
2. the signed session cookie (http-only, same-site, secure when served over HTTPS), see
   sessions.py;
3. CSRF protection from headers alone, never reading a body, see csrf.py;
4. rate limits on asking questions, counted in the database, see ratelimit.py and
   limits.py.
"""
