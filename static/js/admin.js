/* Administration pages: confirm before deactivating or revoking; copy a token shown once. No inline handlers (CSP). */
"use strict";
(function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var node = document.getElementById(button.getAttribute("data-copy"));
      if (node && navigator.clipboard) navigator.clipboard.writeText(node.textContent.trim()).then(function () { button.textContent = "✓"; });
    });
  });
})();
