/* Phone tracking page: follows one ticket live over Socket.IO (a poll when the socket is down); no personal
   data. After one tap the phone rings, vibrates and notifies when the turn is near and when it is called. */
"use strict";
(function () {
  // The tracking key proves this ticket (the id is public: displays hear it); it reads, follows and rates it.
  var data = Luot.pageData(), T = data.texts, lang = data.lang, ticket = data.ticket, key = data.key;
  var NUDGE_AHEAD = data.nudge_ahead === undefined ? 3 : data.nudge_ahead;  // 0: never nudged before the call
  var POLL_MS = 15000, ENDED = ["done", "no_show", "expired"];
  var STATUS = {
    vi: {waiting: "Đang chờ", called: "Mời đến quầy", serving: "Đang được phục vụ", done: "Đã hoàn thành",
         no_show: "Đã qua lượt (vắng mặt)", expired: "Đã hết hạn (hết ngày làm việc)"},
    en: {waiting: "Waiting", called: "Please go to counter", serving: "Being served", done: "Finished",
         no_show: "Missed (no-show)", expired: "Expired (the day closed)"}
  }[lang];
  var RATINGS = {vi: [[3, "Rất hài lòng"], [2, "Hài lòng"], [1, "Không hài lòng"]],
                 en: [[3, "Very satisfied"], [2, "Satisfied"], [1, "Dissatisfied"]]}[lang];
  var ALERTS_KEY = "luot.track.alerts." + key, NUDGED_KEY = "luot.track.nudged." + key;
  var $ = function (id) { return document.getElementById(id); };
  var chime = null, alertsOn = false, nudged = readNudged();

  function readNudged() {
    try { return JSON.parse(sessionStorage.getItem(NUDGED_KEY) || "{}"); } catch (e) { return {}; }
  }

  function calledText() {
    return T.nudge_called.replace("{number}", ticket.number).replace("{counter}", ticket.counter);
  }

  function render(update) {
    Object.keys(update).forEach(function (name) { ticket[name] = update[name]; });
    var status = STATUS[ticket.status] || ticket.status;
    if (ticket.status === "called" && ticket.counter) status = calledText();
    $("track-status").textContent = status;
    $("track-status").className = "track-status status-" + ticket.status;
    // position counts the tickets expected to be called before this one: it is the people ahead as it is
    $("track-ahead").textContent = String(ticket.position || 0);
    var range = ticket.estimated_wait_s === null ? null : Luot.waitRange(ticket.estimated_wait_range_s);
    $("track-wait").textContent = range ? T.wait_range.replace("{low}", range[0]).replace("{high}", range[1])
                                        : T.no_counter_open;
    $("track-wait").classList.toggle("no-forecast", !range);
    $("track-facts").hidden = ticket.status !== "waiting";
    $("track-alerts").hidden = ticket.status !== "waiting" && ticket.status !== "called";
    var rating = Luot.clear($("track-rating"));
    rating.hidden = !(ticket.status === "done" && !ticket.rating);
    if (!rating.hidden) {
      RATINGS.forEach(function (option) {
        rating.appendChild(Luot.el("button", {type: "button", className: "big rate-" + option[0], text: option[1],
          onclick: function () { rate(option[0]); }}));
      });
    }
    nudgeIfDue();
    if (ENDED.indexOf(ticket.status) >= 0) stopPolling();
  }

  /* Ring, vibrate and notify once when `nudge_ahead` people (or fewer) are ahead, and once when called. */
  function nudgeIfDue() {
    if (ticket.status === "called" && !nudged.called) {
      nudged.called = true;
      nudge(calledText(), [400, 150, 400, 150, 400]);
    } else if (ticket.status === "waiting" && NUDGE_AHEAD > 0 && ticket.position > 0 &&
               ticket.position <= NUDGE_AHEAD && !nudged.near) {
      nudged.near = true;
      nudge(T.nudge_near.replace("{n}", ticket.position), [300, 100, 300]);
    } else {
      return;
    }
    try { sessionStorage.setItem(NUDGED_KEY, JSON.stringify(nudged)); } catch (e) { /* private mode */ }
  }

  function nudge(text, pattern) {
    document.body.classList.add("nudged");
    if (navigator.vibrate) { try { navigator.vibrate(pattern); } catch (e) { /* not allowed before a tap */ } }
    if (chime) { chime.currentTime = 0; chime.volume = 1; chime.play().catch(function () {}); }
    if (alertsOn && window.Notification && Notification.permission === "granted" && document.hidden) {
      try { new Notification(ticket.number + " · " + T.track_title, {body: text, tag: "luot-" + ticket.id, renotify: true}); }
      catch (e) { /* Android Chrome shows notifications only from a service worker */ }
    }
  }

  /* Browsers let a page make sound and vibrate only after a tap: this one tap unlocks both, and asks for
     notifications where the browser offers them. */
  function enableAlerts() {
    chime = chime || new Audio("/static/sounds/chime.wav");
    chime.volume = 0.2;
    chime.play().catch(function () {});
    if (navigator.vibrate) { try { navigator.vibrate(80); } catch (e) { /* no vibration motor */ } }
    if (window.Notification && Notification.permission === "default") {
      try { Notification.requestPermission(); } catch (e) { /* old Safari: callback form only */ }
    }
    alertsOn = true;
    try { localStorage.setItem(ALERTS_KEY, "1"); } catch (e) { /* private mode */ }
    $("alerts-enable").hidden = true;
    $("alerts-on").hidden = false;
  }
  $("alerts-enable").addEventListener("click", enableAlerts);
  if (localStorage.getItem(ALERTS_KEY)) {
    // back on the page (reload, installed app): the sound needs a tap again, anywhere on the page will do
    $("alerts-enable").hidden = true;
    $("alerts-on").hidden = false;
    document.addEventListener("pointerdown", function once() {
      document.removeEventListener("pointerdown", once);
      if (!chime) { chime = new Audio("/static/sounds/chime.wav"); chime.volume = 0; chime.play().catch(function () {}); }
      alertsOn = true;
    });
  }

  function ratingMessage(text) {
    $("track-rating-message").textContent = text || "";
    $("track-rating-message").hidden = !text;
  }

  // A citizen's rating never fails silently: a refusal (or no connection) is said on the page.
  function rate(score) {
    var buttons = $("track-rating").querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (button) { button.disabled = true; });
    Luot.api("POST", "/tickets/" + encodeURIComponent(ticket.id) + "/rating", {score: score, key: key})
      .then(function (response) {
        if (response.ok) { render({rating: score}); ratingMessage(T.rate_thanks); return; }
        ratingMessage(T.rate_failed + " " + ((response.data && response.data.error) || response.status));
        if (response.data && response.data.code === "already_rated") { render({rating: ticket.rating || score}); return; }
        Array.prototype.forEach.call(buttons, function (button) { button.disabled = false; });
      });
  }

  /* While the socket is down (a flaky mobile network, a proxy that drops WebSockets) the page asks every
     POLL_MS; on every (re)connect the server answers `track` with the ticket as it is now. */
  var pollTimer = null;
  function refresh() {
    return Luot.api("GET", "/tickets/" + encodeURIComponent(ticket.id) + "?key=" + encodeURIComponent(key))
      .then(function (response) { if (response.ok) render(response.data); });
  }
  function startPolling() {
    if (pollTimer || ENDED.indexOf(ticket.status) >= 0) return;
    pollTimer = setInterval(refresh, POLL_MS);
  }
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

  var socket = Luot.connect({handlers: {
    connect: function () { stopPolling(); socket.emit("track", key); },
    disconnect: startPolling,
    connect_error: startPolling,
    // The server pushes this ticket's place and wait after every queue change (batched), so the page no
    // longer asks again on each `queue_changed`: with hundreds of phones that was a forecast per phone per change.
    ticket_updated: function (update) { if (update.id === ticket.id) render(update); }
  }});
  // A phone wakes from sleep with a stale page: ask at once rather than wait for the socket to notice.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && ENDED.indexOf(ticket.status) < 0) { refresh(); if (!socket.connected) socket.connect(); }
  });
  render({});
})();
