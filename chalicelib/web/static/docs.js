// /docs: Swagger UI on this stack's own OpenAPI document. "Try it" calls
// this same origin; the bearer token is entered once (Authorize) and kept
// in this browser. An Idempotency-Key typed as "auto" becomes a fresh UUID
// at each Execute (type your own to see a replay).
/* global SwaggerUIBundle */
"use strict";
window.ui = SwaggerUIBundle({
  url: "/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true,
  displayRequestDuration: true,
  validatorUrl: null,
  defaultModelsExpandDepth: 0,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  requestInterceptor: (request) => {
    const headers = request.headers || {};
    if (headers["Idempotency-Key"] === "auto" && self.crypto && crypto.randomUUID) {
      headers["Idempotency-Key"] = crypto.randomUUID();
    }
    request.headers = headers;
    return request;
  },
});

// Swagger UI leaves its request-body editor without a label (axe): name it.
new MutationObserver(() => {
  for (const editor of document.querySelectorAll("textarea.body-param__text:not([aria-label])")) {
    editor.setAttribute("aria-label", "Request body (JSON)");
  }
}).observe(document.getElementById("swagger-ui"), { childList: true, subtree: true });
