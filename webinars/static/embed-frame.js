// Inside the embedded sign-up form: fill in the visitor's time zone, and tell the page that frames
// the form how tall it is, so the iframe fits its content without a scroll bar.
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var input = document.querySelector("input[name=timezone]");
  if (input && zone) input.value = zone;

  if (window.parent === window) return;
  var main = document.getElementById("content");
  var slug = main ? main.getAttribute("data-embed-slug") : "";
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    // "*": only a height leaves this frame, and the framing page's origin is already restricted by
    // frame-ancestors; naming it here would need the parent's origin, which a frame cannot read reliably.
    window.parent.postMessage({ type: "webinars:embed-height", webinar: slug, height: height }, "*");
  }
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener("load", report);
  report();
})();
