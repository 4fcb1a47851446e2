/* Call display: live calls by push, a chime and the spoken announcement, played in order. */
"use strict";
(function () {
  var data = Luot.pageData(), T = data.texts, lang = data.lang;
  var RECENT = 8, FLASH_MS = 3000, REPEAT_GAP_MS = 400;
  var CHIME = "/static/sounds/chime.wav";
  var shown = new Set(data.counters), wantedServices = data.services ? new Set(data.services) : null;
  var prefixes = data.prefixes || {};
  var counters = {}, recent = [], newestCounter = null, soundOn = false, playing = Promise.resolve();
  var flashTimer = null, tileTimers = {};
  var $ = function (id) { return document.getElementById(id); };
  var locale = lang === "en" ? "en-GB" : "vi-VN";

  function isShown(counterNumber) {
    return !data.filtered || Object.keys(counters).some(function (id) { return counters[id].number === counterNumber; });
  }

  function counterKey(number) {
    return Object.keys(counters).filter(function (id) { return counters[id].number === number; })[0];
  }

  /* "Quầy 1 – Tư pháp, Chứng thực" → "Tư pháp, Chứng thực": the tile already says which counter it is. */
  function subtitle(name) {
    var match = /^\s*\S+\s+\d+\s*[–-]\s*(.+)$/.exec(name || "");
    return match ? match[1] : "";
  }

  function renderTiles() {
    var tiles = Luot.clear($("counter-tiles"));
    var list = Object.keys(counters).map(function (id) { return counters[id]; })
      .sort(function (a, b) { return a.number - b.number; });
    tiles.className = "counter-tiles" + (list.length <= 1 ? " single" : (list.length > 8 ? " many" : ""));
    // A display for one counter needs no board: the big number is that counter's.
    document.body.classList.toggle("one-counter", list.length === 1);
    list.forEach(function (counter) {
      var classes = ["counter-tile", "state-" + counter.state];
      if (counter.number === newestCounter) classes.push("newest");
      if (counter.flash) classes.push("flash");
      tiles.appendChild(Luot.el("div", {className: classes.join(" "), "data-counter": counter.number}, [
        Luot.el("span", {className: "tile-counter", text: T.counter + " " + counter.number}),
        Luot.el("span", {className: "tile-name", text: subtitle(counter.name)}),
        Luot.el("span", {className: "tile-number", text: counter.ticket || "—"})
      ]));
    });
  }

  function renderRecent() {
    var list = Luot.clear($("recent-calls"));
    if (!recent.length) list.appendChild(Luot.el("li", {className: "empty", text: T.no_calls_yet}));
    recent.slice(0, RECENT).forEach(function (call, index) {
      list.appendChild(Luot.el("li", {className: index === 0 ? "newest" : "", "data-ticket": call.ticket_id}, [
        Luot.el("span", {className: "recent-number", text: call.number}),
        Luot.el("span", {className: "recent-counter", text: "→ " + T.counter + " " + call.counter})
      ]));
    });
  }

  function renderWaiting(services) {
    var list = Luot.clear($("waiting-list"));
    services.forEach(function (service) {
      if (wantedServices && !wantedServices.has(service.code)) return;
      list.appendChild(Luot.el("li", {className: service.waiting ? "" : "none", "data-service": service.code}, [
        Luot.el("span", {className: "waiting-prefix", text: prefixes[service.code] || service.code}),
        Luot.el("span", {className: "waiting-service", text: lang === "en" ? (service.name_en || service.name) : service.name}),
        Luot.el("span", {className: "waiting-count", text: String(service.waiting)}),
        waitBadge(service.estimated_wait_s)
      ]));
    });
  }

  /* What a newcomer to this service can expect; with no open counter there is no time to promise. */
  function waitBadge(seconds) {
    var minutes = Luot.minutes(seconds);
    return Luot.el("span", {className: "waiting-wait" + (minutes === null ? " no-forecast" : ""),
                            text: minutes === null ? T.no_counter_display : T.wait_about.replace("{n}", minutes)});
  }

  function showLatest(call, fresh) {
    var box = $("now-calling");
    $("latest-number").textContent = call ? call.number : "—";
    $("latest-counter").textContent = call ? T.to_counter + " " + call.counter
      + (call.appointment ? " · 📅 " + T.appointment_badge : "") : "";
    box.classList.toggle("idle", !call);
    if (!fresh) return;
    // Restart the blink for every new call, then keep the steady highlight.
    clearTimeout(flashTimer);
    box.classList.remove("flash"); void box.offsetWidth; box.classList.add("flash");
    flashTimer = setTimeout(function () { box.classList.remove("flash"); }, FLASH_MS);
  }

  /* Plays one clip and resolves when it ends, fails or overruns its own length: never two at once. */
  function playClip(src) {
    return new Promise(function (resolve) {
      var clip = new Audio(src), done = false, guard = null;
      function finish() {
        if (done) return;
        done = true;
        clearTimeout(guard);
        clip.onended = clip.onerror = clip.onloadedmetadata = null;
        try { clip.pause(); } catch (ignored) { /* already stopped */ }
        resolve();
      }
      function arm(ms) { clearTimeout(guard); guard = setTimeout(finish, ms); }
      clip.onended = finish;
      clip.onerror = finish;
      clip.onloadedmetadata = function () {
        if (isFinite(clip.duration) && clip.duration > 0) arm(clip.duration * 1000 + 3000);
      };
      arm(20000);
      var started;
      try { started = clip.play(); } catch (error) { finish(); return; }
      if (started && started.catch) started.catch(finish);
    });
  }

  function pause(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  /* Calls are announced one after another, never over each other: chime, then the voice `repeat` times. */
  function announce(call) {
    if (!soundOn) return;
    var announcement = call.announcement || {};
    var url = announcement.audio_url, times = Math.max(1, announcement.repeat || 1);
    playing = playing.then(function () {
      var chain = playClip(CHIME);
      if (url) {
        for (var i = 0; i < times; i++) {
          chain = chain.then(function () { return pause(REPEAT_GAP_MS); }).then(function () { return playClip(url); });
        }
      }
      return chain;
    }).catch(function () { /* a failed clip never blocks the next call */ });
  }

  function showNotice(text) {
    var band = $("notice"), line = $("notice-text");
    line.textContent = text;
    band.hidden = !text;
    band.classList.remove("scrolling");
    if (text && line.offsetWidth > band.clientWidth) {
      band.classList.add("scrolling");
      line.style.animationDuration = Math.max(20, Math.round(text.length / 4)) + "s";
    }
  }

  function onSnapshot(snapshot) {
    $("centre-name").textContent = lang === "en" ? (snapshot.centre.name_en || snapshot.centre.name) : snapshot.centre.name;
    showNotice(snapshot.notice || "");
    counters = {};
    snapshot.counters.forEach(function (counter) {
      if (!data.filtered || shown.has(counter.id)) {
        counters[counter.id] = {number: counter.number, name: counter.name, ticket: counter.ticket, state: counter.state};
      }
    });
    recent = snapshot.recent_calls.filter(function (call) { return isShown(call.counter); }).slice(0, RECENT);
    // A tile keeps the last number called there, even once that citizen has been served.
    recent.slice().reverse().forEach(function (call) {
      var key = counterKey(call.counter);
      if (key && !counters[key].ticket) counters[key].ticket = call.number;
    });
    newestCounter = recent.length ? recent[0].counter : null;
    showLatest(recent[0] || null, false);
    renderTiles(); renderRecent(); renderWaiting(snapshot.services);
  }

  function onCalled(call) {
    if (!isShown(call.counter)) return;
    var key = counterKey(call.counter);
    if (key) {
      var counter = counters[key];
      counter.ticket = call.number;
      counter.state = "open";
      counter.flash = true;
      clearTimeout(tileTimers[key]);
      tileTimers[key] = setTimeout(function () { counter.flash = false; renderTiles(); }, FLASH_MS);
    }
    newestCounter = call.counter;
    recent = [call].concat(recent.filter(function (c) { return c.ticket_id !== call.ticket_id; })).slice(0, RECENT);
    showLatest(call, true); renderTiles(); renderRecent(); announce(call);
  }

  function onCounterChanged(payload) {
    var key = counterKey(payload.number);
    if (!key) return;
    counters[key].state = payload.state;
    if (payload.ticket) counters[key].ticket = payload.ticket;
    renderTiles();
  }

  function tick() {
    var now = new Date();
    $("clock-time").textContent = now.toLocaleTimeString(locale, {hour: "2-digit", minute: "2-digit", timeZone: data.tz});
    $("clock-date").textContent = now.toLocaleDateString(locale,
      {weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: data.tz});
  }
  setInterval(tick, 1000); tick();

  $("sound-start").addEventListener("click", function () {
    soundOn = true;
    $("sound-gate").hidden = true;
    // The gesture unlocks audio; the confirming chime goes through the same queue as the calls.
    playing = playing.then(function () { return playClip(CHIME); });
    if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(function () {});
  });

  renderRecent();
  Luot.connect({handlers: {
    snapshot: onSnapshot,
    ticket_called: onCalled,
    counter_changed: onCounterChanged,
    queue_changed: function (payload) { renderWaiting(payload.services); },
    notice_changed: function (payload) { showNotice(payload.notice || ""); },
    configuration_changed: function () { location.reload(); }
  }});
})();
