/* Rating tablet at a counter: idles calmly, lights up when the counter finishes a ticket, records the score. */
"use strict";
(function () {
  var data = Luot.pageData(), T = data.texts, lang = data.lang;
  var THANKS_MS = 5000, UNANSWERED_MS = 60000;
  var TOKEN_KEY = "luot.rate.token";
  var $ = function (id) { return document.getElementById(id); };
  var buttons = Array.prototype.slice.call(document.querySelectorAll(".rate-buttons button"));
  var current = null, backToIdle = null, sending = false, ready = false;

  // The device token arrives once in the address's fragment (never sent to the server) and is kept here.
  var hashToken = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (hashToken) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(hashToken[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  var token = localStorage.getItem(TOKEN_KEY);

  function show(screen) {
    ["rate-idle", "rate-ask", "rate-thanks"].forEach(function (id) { $(id).hidden = id !== screen; });
    document.body.classList.toggle("lit", screen !== "rate-idle");
  }

  function message(text) { $("rate-message").textContent = text || ""; $("rate-message").hidden = !text; }

  function later(delay) { clearTimeout(backToIdle); backToIdle = setTimeout(idle, delay); }

  function enable(on) { buttons.forEach(function (button) { button.disabled = !on; }); }

  function idle() {
    clearTimeout(backToIdle);
    current = null;
    show("rate-idle");
  }

  function ask(request) {
    current = request;
    sending = false;
    $("rate-number").textContent = request.number;
    enable(true);
    message("");
    show("rate-ask");
    later(UNANSWERED_MS);
  }

  function thank() {
    current = null;
    message("");
    show("rate-thanks");
    later(THANKS_MS);
  }

  function rate(score) {
    if (!current || sending) return;
    sending = true;
    enable(false);
    Luot.api("POST", "/tickets/" + encodeURIComponent(current.ticket_id) + "/rating", {score: score}, token)
      .then(function (response) {
        sending = false;
        // Rated already (e.g. on the citizen's phone): nothing is lost, so just say thank you.
        if (response.ok || response.data.code === "already_rated") { thank(); return; }
        if (response.status === 401) { message(T.rate_not_activated); idle(); return; }
        message(T.rate_failed + " " + response.data.error);
        enable(true);
        later(UNANSWERED_MS);
      });
  }

  buttons.forEach(function (button) {
    button.addEventListener("click", function () { rate(parseInt(button.getAttribute("data-score"), 10)); });
  });

  function tick() {
    $("rate-clock").textContent = new Date().toLocaleTimeString(lang === "en" ? "en-GB" : "vi-VN",
      {hour: "2-digit", minute: "2-digit", timeZone: data.tz});
  }
  setInterval(tick, 10000); tick();

  idle();
  if (!token) { message(T.rate_not_activated); return; }

  Luot.connect({token: token, handlers: {
    snapshot: function (snapshot) {
      var you = snapshot.you || {};
      ready = false;
      if (you.kind !== "device" || you.role !== "counter") { message(T.rate_not_activated); return; }
      // A tablet set up for another counter must not ask about this one's citizens.
      if (!snapshot.counter || snapshot.counter.counter !== data.counter.id) { message(T.rate_wrong_counter); return; }
      ready = true;
      $("rate-counter").textContent = snapshot.counter.name;
      if (!current) message("");
    },
    connect_error: function (error) { if (error && error.message === "unauthorized") message(T.rate_not_activated); },
    rating_requested: function (request) { if (ready) ask(request); }
  }});
})();
