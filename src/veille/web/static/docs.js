// The API reference: Swagger UI over this server's /openapi.json, from its own files
// (no CDN, no inline script: the Content-Security-Policy allows neither).
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    validatorUrl: null, // the default validator is a remote service
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
