/* Kiosk flow «Nhận kết quả» (issue 16): scan the receipt's QR (a keyboard-wedge scanner types its link) or
   type the dossier code → a ticket of the result-return service carrying the dossier. */
"use strict";
(function () {
  var data = Luot.pageData(), lang = data.lang;
  var TEXT = {
    vi: {processing: "Hồ sơ đang giải quyết, hẹn trả ngày ", ready: "Đã có kết quả: mời Ông/Bà chờ gọi số",
         not_activated: "Kiosk chưa được kích hoạt", due: "Mã hồ sơ: "},
    en: {processing: "Still being processed, due on ", ready: "Your result is ready: please wait to be called",
         not_activated: "This kiosk is not activated", due: "Dossier: "}
  }[lang];
  var RESET_MS = 25000, timer = null, sending = false;
  var $ = function (id) { return document.getElementById(id); };

  function showOnly(id) {
    document.querySelectorAll("main > .screen").forEach(function (screen) { screen.hidden = screen.id !== id; });
  }

  function message(text) { $("result-message").textContent = text || ""; $("result-message").hidden = !text; }

  function home() {
    clearTimeout(timer);
    $("result-code").value = "";
    showOnly("screen-home");
  }

  function start(scanned) {
    message("");
    $("result-ticket").hidden = true;
    $("result-form").hidden = false;
    showOnly("screen-result");
    $("result-code").focus();
    clearTimeout(timer);
    timer = setTimeout(home, RESET_MS);
    if (typeof scanned === "string" && scanned) submit(scanned);
  }

  function submit(text) {
    if (sending || !text.trim()) return;
    sending = true;
    var token = localStorage.getItem("luot.kiosk.token");
    var body = {dossier_code: text.trim(), lang: lang};  // the server fills in the result-return service
    Luot.api("POST", "/tickets", body, token).then(function (response) {
      sending = false;
      clearTimeout(timer);
      timer = setTimeout(home, RESET_MS);
      if (!response.ok) {
        message(response.status === 401 || !token ? TEXT.not_activated : response.data.error);
        return;
      }
      var ticket = response.data, dossier = ticket.dossier || {};
      $("result-number").textContent = ticket.number;
      $("result-dossier").textContent = TEXT.due + (dossier.code || "");
      $("result-status").textContent = dossier.status === "processing" ? TEXT.processing + dossier.due_date : TEXT.ready;
      $("result-form").hidden = true;
      $("result-ticket").hidden = false;
    });
  }

  $("result-form").addEventListener("submit", function (event) {
    event.preventDefault();
    submit($("result-code").value);
  });
  $("result-back").addEventListener("click", home);

  window.LuotKiosk = window.LuotKiosk || {flows: {}};
  window.LuotKiosk.flows = window.LuotKiosk.flows || {};
  window.LuotKiosk.flows.result = start;
  var button = $("choice-result");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", function () { start(); });
  }
})();
