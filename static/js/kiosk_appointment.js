/* Kiosk flow "Tôi có lịch hẹn" (issue 15): scan the booking QR or the ID card, or type the code; check in;
   the ticket is printed like any other, marked as an appointment. Registers itself as
   window.LuotKiosk.flows.appointment; the kiosk home shows #choice-appointment when a flow is registered. */
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var screen = $("screen-appointment");
  if (!screen) return;
  var T = JSON.parse(screen.getAttribute("data-texts"));
  var lang = (Luot.pageData().lang) || "vi";
  var CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789", CODE_LENGTH = 8, RESET_MS = 20000;
  var typed = "", busy = false, timer = null;

  function token() { return localStorage.getItem("luot.kiosk.token"); }

  function setResult(text, kind) {
    $("appointment-result").textContent = text;
    $("appointment-result").className = "question" + (kind ? " " + kind : "");
  }

  function renderCode() { $("appointment-code").textContent = typed || "—"; }

  function goHome() {
    clearTimeout(timer);
    screen.hidden = true;
    $("screen-home").hidden = false;
  }

  function start() {
    typed = ""; renderCode();
    Luot.clear($("appointment-ticket") || document.createElement("div"));
    var old = $("appointment-ticket"); if (old) old.remove();
    setResult(T.hint);
    Array.prototype.forEach.call(document.querySelectorAll("main > section.screen"), function (node) {
      node.hidden = node !== screen;
    });
    $("card-input").focus({preventScroll: true});
    clearTimeout(timer);
    timer = setTimeout(goHome, RESET_MS * 3);
  }

  /* What a scan or the keypad gave: a booking link (…/book/CODE), a bare code, or an ID card's QR. */
  function checkIn(raw) {
    if (busy) return;
    var body = {lang: lang}, path;
    var link = /\/book\/([A-Za-z0-9]{8})(?:[?#].*)?$/.exec(raw);
    var code = link ? link[1] : raw.replace(/[\s-]/g, "").toUpperCase();
    if (raw.indexOf("|") >= 0) { body.citizen_qr = raw; path = "/appointments/check-in"; }
    else path = "/appointments/" + encodeURIComponent(code) + "/check-in";
    busy = true;
    Luot.api("POST", path, body, token()).then(function (response) {
      busy = false;
      clearTimeout(timer);
      timer = setTimeout(goHome, RESET_MS);
      if (!response.ok) {
        setResult(response.status === 401 || !token() ? T.not_activated : response.data.error, "error");
        if (response.data.code === "too_late" || response.data.code === "not_booked") {
          setResult(response.data.error + " — " + T.ordinary, "error");
        }
        typed = ""; renderCode();
        return;
      }
      showTicket(response.data);
    });
  }

  function showTicket(ticket) {
    setResult(T.checked_in.replace("{number}", ticket.number), "ok");
    typed = ""; renderCode();
    var box = Luot.el("div", {id: "appointment-ticket", className: "appointment-ticket"}, [
      Luot.el("span", {className: "badge-appointment", text: T.badge + " " + Luot.localTime(ticket.appointment.start, lang)}),
      Luot.el("p", {className: "ticket-number", id: "appointment-number", text: ticket.number}),
      Luot.el("p", {text: T.people_ahead + ": " + ticket.position}),
      Luot.el("img", {className: "ticket-qr", src: ticket.track_url + "/qr.svg", alt: "QR"}),
      ticket.print && ticket.print.message ? Luot.el("p", {className: "print-status", text: ticket.print.message}) : null
    ]);
    screen.insertBefore(box, $("appointment-keys"));
  }

  function keypad() {
    var keys = $("appointment-keys");
    CODE_ALPHABET.split("").forEach(function (ch) {
      keys.appendChild(Luot.el("button", {type: "button", className: "key", text: ch, onclick: function () {
        if (typed.length < CODE_LENGTH) { typed += ch; renderCode(); }
      }}));
    });
    keys.appendChild(Luot.el("button", {type: "button", className: "key key-wide", text: "⌫", "aria-label": "⌫",
      onclick: function () { typed = typed.slice(0, -1); renderCode(); }}));
  }

  /* The kiosk's hidden scanner field gets every scan; while this screen shows, the scan is ours. */
  document.addEventListener("keydown", function (event) {
    if (screen.hidden || event.target !== $("card-input") || event.key !== "Enter") return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var raw = event.target.value.trim();
    event.target.value = "";
    if (raw) checkIn(raw);
  }, true);

  // The kiosk going home by itself (idle) shows its home screen: this one then steps aside.
  new MutationObserver(function () {
    if (!$("screen-home").hidden && !screen.hidden) { screen.hidden = true; clearTimeout(timer); }
  }).observe($("screen-home"), {attributes: true, attributeFilter: ["hidden"]});

  $("appointment-submit").addEventListener("click", function () { if (typed.length === CODE_LENGTH) checkIn(typed); });
  $("appointment-back").addEventListener("click", goHome);
  keypad();
  renderCode();

  window.LuotKiosk = window.LuotKiosk || {flows: {}};
  window.LuotKiosk.flows = window.LuotKiosk.flows || {};
  window.LuotKiosk.flows.appointment = start;

  // Until the kiosk home renders the entry buttons itself, show ours and open the flow from it.
  var choice = $("choice-appointment");
  if (choice && !choice.hasAttribute("data-flow-bound")) {
    choice.setAttribute("data-flow-bound", "");
    choice.hidden = false;
    choice.addEventListener("click", function () { window.LuotKiosk.flows.appointment(); });
  }
})();
