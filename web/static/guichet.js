// Guichet's only script besides htmx: small behaviours kept out of the HTML so the
// Content-Security-Policy can forbid inline scripts.
document.addEventListener("htmx:afterRequest", function (event) {
  var form = event.target.closest && event.target.closest("form[data-reset-on-success]");
  if (form && event.detail.successful) {
    form.reset();
    var empty = document.getElementById("empty-answers");
    if (empty) { empty.remove(); }
  }
});

// CSRF: htmx requests carry the session's token (server/security.py checks it).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});

// Show refusals (session expired, too many questions) where the answer would have gone.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status === 403 || status === 429) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
