/* Lượt — the citizen's booking pages (/book and /book/<code>): slots, booking, moving, cancelling. */
"use strict";
(function () {
  var data = Luot.pageData(), texts = data.texts, el = Luot.el;
  var chosen = null;

  function showError(message) {
    var node = document.getElementById("book-error");
    node.textContent = message || "";
    node.hidden = !message;
  }

  function hhmm(iso) { var m = /T(\d{2}):(\d{2})/.exec(iso); return m ? m[1] + ":" + m[2] : iso; }

  function loadSlots(service) {
    var grid = document.getElementById("book-slots");
    var day = document.getElementById("book-day").value;
    chosen = null;
    Luot.clear(grid);
    return Luot.api("GET", "/appointments/slots?service=" + encodeURIComponent(service) +
                    "&date=" + encodeURIComponent(day)).then(function (answer) {
      if (!answer.ok) { showError(answer.data.error); return; }
      if (!answer.data.length) { grid.appendChild(el("p", {className: "no-slots", text: texts.no_slots})); return; }
      answer.data.forEach(function (slot) {
        var full = slot.free <= 0;
        var button = el("button", {type: "button", className: "slot", role: "radio", "aria-checked": "false",
                                   "data-start": slot.start, disabled: full}, [
          el("strong", {text: hhmm(slot.start)}),
          el("small", {text: full ? texts.full : texts.places_left.replace("{n}", slot.free)})]);
        button.addEventListener("click", function () {
          Array.prototype.forEach.call(grid.querySelectorAll(".slot"), function (other) {
            other.setAttribute("aria-checked", "false");
          });
          button.setAttribute("aria-checked", "true");
          chosen = slot.start;
          showError("");
        });
        grid.appendChild(button);
      });
    });
  }

  function bookPage() {
    var services = JSON.parse(document.getElementById("book-services").textContent);
    var serviceSelect = document.getElementById("book-service");
    var procedureSelect = document.getElementById("book-procedure");
    function fillProcedures() {
      var service = services.filter(function (s) { return s.code === serviceSelect.value; })[0];
      while (procedureSelect.options.length > 1) procedureSelect.remove(1);
      (service ? service.procedures : []).forEach(function (p) {
        procedureSelect.appendChild(el("option", {value: p.code, text: p.name}));
      });
    }
    serviceSelect.addEventListener("change", function () { fillProcedures(); loadSlots(serviceSelect.value); });
    document.getElementById("book-day").addEventListener("change", function () { loadSlots(serviceSelect.value); });
    fillProcedures();
    loadSlots(serviceSelect.value);
    document.getElementById("book-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!chosen) { showError(texts.choose_slot); return; }
      if (!document.getElementById("book-consent").checked) { showError(texts.need_consent); return; }
      var button = document.getElementById("book-submit");
      button.disabled = true;
      Luot.api("POST", "/appointments", {
        service: serviceSelect.value, procedure: procedureSelect.value || null, start: chosen,
        name: document.getElementById("book-name").value, phone: document.getElementById("book-phone").value,
        lang: data.lang
      }).then(function (answer) {
        button.disabled = false;
        if (!answer.ok) { showError(answer.data.error); if (answer.status === 409) loadSlots(serviceSelect.value); return; }
        window.location.assign(answer.data.manage_url + (data.lang === "en" ? "?lang=en" : ""));
      });
    });
  }

  function managePage() {
    var cancel = document.getElementById("booking-cancel");
    if (!cancel) return;
    var day = document.getElementById("book-day");
    day.addEventListener("change", function () { loadSlots(data.service); });
    document.querySelector(".booking-move").addEventListener("toggle", function () { loadSlots(data.service); },
                                                              {once: true});
    cancel.addEventListener("click", function () {
      if (!window.confirm(texts.cancel_confirm)) return;
      Luot.api("DELETE", "/appointments/" + data.code).then(function (answer) {
        if (!answer.ok) { showError(answer.data.error); return; }
        window.location.reload();
      });
    });
    document.getElementById("booking-move").addEventListener("click", function () {
      if (!chosen) { showError(texts.choose_slot); return; }
      Luot.api("PATCH", "/appointments/" + data.code, {start: chosen}).then(function (answer) {
        if (!answer.ok) { showError(answer.data.error); return; }
        window.location.reload();
      });
    });
  }

  function joinPage() {
    var form = document.getElementById("join-form");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!document.getElementById("join-consent").checked) { showError(texts.need_consent); return; }
      var button = document.getElementById("join-submit");
      button.disabled = true;
      Luot.api("POST", "/join", {service: document.getElementById("join-service").value,
                                 phone: document.getElementById("join-phone").value, lang: data.lang})
        .then(function (answer) {
          button.disabled = false;
          if (!answer.ok) { showError(answer.data.error); return; }
          window.location.assign(answer.data.track_url + (data.lang === "en" ? "?lang=en" : ""));
        });
    });
  }

  if (data.mode === "book") bookPage(); else if (data.mode === "join") joinPage(); else managePage();
})();
