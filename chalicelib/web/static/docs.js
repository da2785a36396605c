// /docs: Swagger UI on this stack's own OpenAPI document. "Try it" calls
// this same origin; the bearer token is entered once (Authorize) and kept
// in this tab. Money routes get a fresh Idempotency-Key unless one is typed.
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
    if (request.method === "POST" && !headers["Idempotency-Key"] && self.crypto && crypto.randomUUID) {
      headers["Idempotency-Key"] = crypto.randomUUID();
    }
    request.headers = headers;
    return request;
  },
});
