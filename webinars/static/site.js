// Show each <time data-local> in the visitor's own time zone as well, and fill in the
// registration form's hidden time zone field, so emails show the visitor's local time.
(function () {
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var text = when.toLocaleString(document.documentElement.lang || undefined, {
      weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
    });
    var target = el.parentElement.querySelector("[data-local-target]");
    if (target) { target.textContent = (target.dataset.prefix || "") + " " + text; target.hidden = false; }
  });
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll("input[name=timezone]").forEach(function (input) {
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
