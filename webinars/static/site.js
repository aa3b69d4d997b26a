// Show each <time data-local> in the visitor's own time zone as well, in the notation the server
// writes ("Tuesday, 15 December 2026, 16:00 (Santiago, UTC-03:00)"): one notation on every line.
// Also fill in the registration form's hidden time zone field, so emails show the visitor's local time.
(function () {
  function offset(when) {
    var minutes = -when.getTimezoneOffset();
    if (minutes === 0) return "UTC";
    var sign = minutes < 0 ? "-" : "+";
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

// A select marked data-autosubmit sends its form as soon as it changes (no inline handlers: CSP).
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) field.form.submit();
});

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
