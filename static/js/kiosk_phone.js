/* Kiosk (issue 15): after a ticket, the citizen may type a phone on the keypad for an SMS when the turn is
   near and when it is called. Listens for the "luot:ticket" event the kiosk fires when it shows a ticket. */
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var box = $("phone-optin");
  if (!box) return;
  var T = JSON.parse(box.getAttribute("data-texts"));
  var ticketId = null, digits = "";

  function render() { $("phone-optin-number").textContent = digits || "—"; }

  document.addEventListener("luot:ticket", function (event) {
    ticketId = event.detail && event.detail.id;
    digits = ""; render();
    box.hidden = !ticketId;
    $("phone-optin-pad").hidden = true;
    $("phone-optin-open").hidden = false;
    $("phone-optin-result").textContent = "";
  });
  $("phone-optin-open").addEventListener("click", function () {
    $("phone-optin-pad").hidden = false;
    $("phone-optin-open").hidden = true;
  });
  "1234567890".split("").concat(["⌫"]).forEach(function (key) {
    $("phone-optin-keys").appendChild(Luot.el("button", {type: "button", className: "key", text: key,
      onclick: function () {
        digits = key === "⌫" ? digits.slice(0, -1) : (digits.length < 11 ? digits + key : digits);
        render();
      }}));
  });
  $("phone-optin-send").addEventListener("click", function () {
    if (!ticketId || digits.length < 10) return;
    Luot.api("POST", "/tickets/" + encodeURIComponent(ticketId) + "/phone", {phone: digits},
             localStorage.getItem("luot.kiosk.token")).then(function (response) {
      $("phone-optin-result").textContent = response.ok ? T.ok : response.data.error;
      if (response.ok) $("phone-optin-pad").hidden = true;
    });
  });
  render();
})();
