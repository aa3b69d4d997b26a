// Embeds a webinar's sign-up form: <script src="https://SITE/embed.js" data-webinar="SLUG" async></script>
// Inserts an iframe right after this script tag and keeps its height equal to the form's.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var slug = script.getAttribute("data-webinar");
  if (!slug) return;
  var origin = new URL(script.src, document.baseURI).origin;
  var src = origin + "/embed/webinars/" + encodeURIComponent(slug);
  var lang = script.getAttribute("data-lang") || (document.documentElement.lang || "").slice(0, 2);
  if (lang) src += "?lang=" + encodeURIComponent(lang);

  var frame = document.createElement("iframe");
  frame.src = src;
  frame.title = script.getAttribute("data-title") || "Registration";
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.height = "32rem";
  frame.setAttribute("data-webinar", slug);
  script.parentNode.insertBefore(frame, script.nextSibling);

  window.addEventListener("message", function (event) {
    // Only our own frame may resize it: the message must come from that window and the site's origin.
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data || {};
    if (data.type !== "webinars:embed-height" || typeof data.height !== "number") return;
    frame.style.height = Math.max(80, Math.min(data.height, 10000)) + "px";
  });
})();
