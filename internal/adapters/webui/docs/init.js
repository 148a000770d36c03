// The API reference: Swagger UI over the serving instance's own contract.
// This file is apart from index.html so that the page's
// Content-Security-Policy can refuse every inline script.
'use strict';

window.ui = SwaggerUIBundle({
  // The contract the service is tested against; its server is "/", so
  // "Try it out" calls this same instance.
  url: '/openapi.yaml',
  dom_id: '#swagger-ui',
  // No badge from the public validator: the page talks to no other site.
  validatorUrl: null,
  // Every operation's form is open for a request.
  tryItOutEnabled: true,
  // A pasted token lives as long as the page, never in localStorage.
  persistAuthorization: false,
  // ?url= and ?configUrl= must not point the page at another document.
  queryConfigEnabled: false,
  deepLinking: true,
  displayRequestDuration: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
