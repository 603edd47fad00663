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

// ---- Review pages (issue #5) ------------------------------------------------------------
// A refused review action (409 stale or claimed, 422 missing text) comes back as the panel
// with a message: swap it in like a success so the reviewer reads why.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr && event.detail.xhr.status;
  var target = event.detail.target;
  if ((status === 409 || status === 422) && target && target.hasAttribute("data-review-panel")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
// ---- Asking a person (issue #18) ----------------------------------------------------------
// A mistyped reply address (422) comes back as the answer with the message and what was
// typed: swap it in, then put the focus on the field to correct.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr && event.detail.xhr.status;
  var target = event.detail.target;
  if (status === 422 && target && target.classList && target.classList.contains("answer")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
document.addEventListener("htmx:afterSwap", function (event) {
  var id = event.detail.target && event.detail.target.id;
  var fresh = id && document.getElementById(id);
  var invalid = fresh && fresh.querySelector(".ask-human [aria-invalid=true]");
  if (invalid) { invalid.focus(); }
});

// ---- Focus after every htmx action (issue #17) --------------------------------------------
// A swap removes the button that was pressed: without this, the focus falls to <body> and
// keyboard and screen-reader users lose their place. The server marks the message to read
// next with data-focus (feedback given, question sent to a person, a review decision); it
// gets the focus once. A refresh by polling keeps the focus where it was, on the element
// that took the old one's place.
(function () {
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    kept = null;
    if (target && target.id && active && active !== document.body && target.contains(active)) {
      kept = { id: target.id, tag: active.tagName.toLowerCase(),
               name: active.getAttribute("name"), cls: (active.className || "").split(" ")[0] };
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var marked = document.querySelector("[data-focus]:not([data-focus-done])");
    if (marked) {
      marked.setAttribute("data-focus-done", "");
      marked.focus();
    } else if (kept && document.activeElement === document.body) {
      var root = document.getElementById(kept.id);
      var selector = kept.tag + (kept.name ? '[name="' + kept.name + '"]' : "")
        + (kept.cls ? "." + kept.cls : "");
      var same = root && (root.matches(selector) ? root : root.querySelector(selector));
      if (same) { same.focus(); }
    }
    kept = null;
  });
})();

// A page that opens on an error summary or a message (failed sign-in, a form refused, a
// document deleted) puts the focus on it, so that it is read first.
document.addEventListener("DOMContentLoaded", function () {
  var first = document.querySelector(".error-summary, [data-focus-on-load]");
  if (first) { first.focus(); }
});

// The question box: Enter sends the question, Shift+Enter starts a new line (an input
// method composing a character keeps its Enter).
document.addEventListener("keydown", function (event) {
  var box = event.target;
  if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.ctrlKey
      || event.altKey || event.metaKey) { return; }
  if (!box.matches || !box.matches("form.ask-form textarea[name=question]")) { return; }
  event.preventDefault();
  var form = box.form;
  var button = form.querySelector("button[type=submit]");
  if (button && button.disabled) { return; }
  if (form.requestSubmit) { form.requestSubmit(button); } else { button.click(); }
});

// ---- Citizen chat: stream the verified sentences of an answer as they are written --------
// Without JavaScript the form posts to /chat/ask and the page reloads with the answer.
(function () {
  function csrfHeaders() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta && meta.content ? { "X-CSRF-Token": meta.content } : {};
  }

  function parseEvent(block) {
    var name = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) { name = line.slice(7); }
      else if (line.indexOf("data: ") === 0) { data.push(line.slice(6)); }
    });
    return { name: name, data: data.join("\n") };
  }

  function placeholder(question, thinking) {
    var article = document.createElement("article");
    article.className = "answer answer--generating";
    article.setAttribute("aria-busy", "true");
    var heading = document.createElement("h3");
    heading.className = "question";
    heading.textContent = question;
    var text = document.createElement("div");
    text.className = "answer-text";
    var status = document.createElement("p");
    status.className = "status-message";
    status.setAttribute("role", "status");
    status.textContent = thinking;
    article.appendChild(heading);
    article.appendChild(text);
    article.appendChild(status);
    return article;
  }

  function replaceWithHtml(element, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;  // rendered and escaped by the server's templates
    var fresh = holder.firstElementChild;
    if (!fresh) { return; }
    element.replaceWith(fresh);
    if (window.htmx) { window.htmx.process(fresh); }
  }

  function showSources(article, text, found, label) {
    var block = document.createElement("div");
    block.className = "found-sources";
    var heading = document.createElement("p");
    heading.className = "found-sources-label";
    heading.textContent = label;
    block.appendChild(heading);
    if (found.excerpt) {
      var quote = document.createElement("blockquote");
      quote.textContent = found.excerpt.text;
      block.appendChild(quote);
    }
    var list = document.createElement("ul");
    found.sources.forEach(function (source) {
      var item = document.createElement("li");
      item.textContent = source.section ? source.title + " — " + source.section : source.title;
      list.appendChild(item);
    });
    block.appendChild(list);
    article.insertBefore(block, text);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-stream-url]")) { return; }
    if (!window.fetch || !window.ReadableStream || !window.TextDecoder) { return; }
    var data = new FormData(form);
    var question = String(data.get("question") || "").trim();
    if (!question) { return; }
    event.preventDefault();
    var answers = document.getElementById("answers");
    var empty = document.getElementById("empty-answers");
    if (empty) { empty.remove(); }
    var article = placeholder(question, form.dataset.thinking);
    answers.appendChild(article);
    var text = article.querySelector(".answer-text");
    var status = article.querySelector(".status-message");
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;

    function handle(message) {
      if (message.name === "started") {
        var ids = JSON.parse(message.data);
        article.id = "answer-" + ids.answer_id;
        form.elements.conversation_id.value = ids.conversation_id;
      } else if (message.name === "sources") {
        // What retrieval found, at once: excerpts of the documents, not yet the answer.
        showSources(article, text, JSON.parse(message.data), form.dataset.sourcesLabel);
        status.textContent = form.dataset.sourcesLabel;
      } else if (message.name === "sentence") {
        text.textContent += (text.textContent ? " " : "") + message.data;
      } else if (message.name === "done") {
        replaceWithHtml(article, message.data);
        form.elements.question.value = "";
      } else if (message.name === "error") {
        status.textContent = message.data;
        article.removeAttribute("aria-busy");
      }
    }

    fetch(form.dataset.streamUrl, {
      method: "POST", body: data, headers: csrfHeaders(), credentials: "same-origin"
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      if (type.indexOf("text/event-stream") !== 0) {
        return response.text().then(function (html) { replaceWithHtml(article, html); });
      }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (result) {
          if (result.done) { return; }
          buffer += decoder.decode(result.value, { stream: true });
          var blocks = buffer.split("\n\n");
          buffer = blocks.pop();
          blocks.forEach(function (block) { if (block.trim()) { handle(parseEvent(block)); } });
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      status.textContent = form.dataset.networkError;
      article.removeAttribute("aria-busy");
    }).then(function () {
      button.disabled = false;
      form.elements.question.focus();
    });
  });
})();

// ---- Documents: announce status changes of the polled table (issue #8) ---------------------
// The table is replaced every few seconds while documents are indexed; a replaced region is
// not announced reliably, so a live region that stays put reads the statuses when they change.
document.addEventListener("htmx:afterSettle", function () {
  var table = document.getElementById("documents-table");
  var live = document.getElementById("documents-live");
  if (!table || !live) { return; }
  var summary = table.getAttribute("data-summary") || "";
  if (summary && live.getAttribute("data-last") !== summary) {
    live.setAttribute("data-last", summary);
    live.textContent = summary;
  }
});
