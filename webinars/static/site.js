// Show each <time data-local> in the visitor's own time zone as well, in the notation the server
// writes ("Tuesday, 15 December 2026, 16:00 (Santiago, UTC\u221203:00)", with the minus sign U+2212):
// one notation on every line.
// Also fill in the registration form's hidden time zone field, so emails show the visitor's local time.
(function () {
  function offset(when) {
    var minutes = -when.getTimezoneOffset();
    if (minutes === 0) return "UTC";
    var sign = minutes < 0 ? "\u2212" : "+";
    var abs = Math.abs(minutes);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return "UTC" + sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  var place = zone.split("/").pop().replace(/_/g, " ");
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var scope = el.closest("[data-local-scope]") || el.parentElement;
    var target = scope.querySelector("[data-local-target]");
    if (!target) return;
    // The visitor already reads the webinar's own zone: a second identical line would only confuse.
    if (zone && el.dataset.zone === zone) return;
    var date = when.toLocaleDateString(document.documentElement.lang || undefined, {
      weekday: "long", day: "numeric", month: "long", year: "numeric"
    });
    var time = when.toLocaleTimeString(document.documentElement.lang || undefined, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    });
    var label = place && place !== "UTC" ? place + ", " + offset(when) : offset(when);
    target.textContent = (target.dataset.prefix || "") + " " + date + ", " + time + " (" + label + ")";
    target.hidden = false;
  });
  document.querySelectorAll("input[type=hidden][name=timezone]").forEach(function (input) {
    if (zone) input.value = zone;
  });
})();

// Forms that undo something ask first (data-confirm holds the question).
document.addEventListener("submit", function (event) {
  var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});

// After a failed submit, start keyboard and screen-reader users at the list of errors (or at the
// error message a redirect left) instead of at the top of a page whose fields may be far below.
(function () {
  var summary = document.querySelector("[data-error-summary]") || document.querySelector("[data-error-flash]");
  if (summary) summary.focus();
  // A link of the summary puts the caret in its field and shows the field's label with it: the
  // browser alone would scroll the bare input to the top edge, its label out of sight above.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    var around = target.closest(".field, fieldset") || target;
    around.scrollIntoView();
    target.focus({ preventScroll: true });
  });
})();

// A progress region (data-progress-url) follows a running job: it polls the JSON endpoint and
// replaces its own content with the fragment it returns, announced politely by its aria-live. It
// stops when the job is done; without JavaScript the page's "refresh" link does the same by hand.
(function () {
  var region = document.querySelector("[data-progress-url]");
  if (!region || !window.fetch) return;
  var url = region.getAttribute("data-progress-url");
  var delay = 3000;
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (state) {
        Object.keys(state.fields || {}).forEach(function (name) {
          region.querySelectorAll("[data-progress='" + name + "']").forEach(function (el) {
            if (el.tagName === "PROGRESS") el.value = state.fields[name];
            else el.textContent = state.fields[name];
          });
        });
        region.querySelectorAll("[data-progress-if-failed]").forEach(function (el) {
          el.hidden = !(state.fields && state.fields.failed > 0);
        });
        if (state.done) {
          region.querySelectorAll("[data-progress-while-running]").forEach(function (el) { el.hidden = true; });
        } else {
          window.setTimeout(poll, delay);
        }
      })
      .catch(function () { window.setTimeout(poll, delay * 4); });
  }
  window.setTimeout(poll, delay);
})();

// A page from a shared cache (nginx, a CDN) carries no CSRF token: it would be somebody else's. This
// visitor's own is fetched into the forms that lack one (webinars/pagecache.py).
(function () {
  var missing = Array.prototype.filter.call(
    document.querySelectorAll('form[method="post"] input[name="csrf_token"]'),
    function (input) { return !input.value; }
  );
  var url = document.documentElement.getAttribute("data-csrf-url");
  if (!missing.length || !url || !window.fetch) return;
  fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (answer) { return answer.ok ? answer.json() : null; })
    .then(function (data) {
      if (data && data.token) missing.forEach(function (input) { input.value = data.token; });
    });
})();
