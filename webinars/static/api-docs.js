// Starts Swagger UI on the API page; kept out of the page itself so no inline script is needed.
(function () {
  "use strict";
  var target = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: target.getAttribute("data-spec-url"),
    domNode: target,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
})();
