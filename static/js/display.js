/* Call display: live calls by push, a chime and the spoken announcement, played in order. */
"use strict";
(function () {
  var data = Luot.pageData(), T = data.texts, lang = data.lang;
  var RECENT = 8, HIGHLIGHT_MS = 6000;
  var shown = new Set(data.counters), recent = [], counters = {}, soundOn = false, playing = Promise.resolve();
  var $ = function (id) { return document.getElementById(id); };
  var chime = new Audio("/static/sounds/chime.wav");

  function renderTiles() {
    var tiles = Luot.clear($("counter-tiles"));
    Object.keys(counters).map(function (id) { return counters[id]; })
      .sort(function (a, b) { return a.number - b.number; })
      .forEach(function (counter) {
        tiles.appendChild(Luot.el("div", {className: "counter-tile state-" + counter.state + (counter.flash ? " flash" : ""),
                                          "data-counter": counter.number}, [
          Luot.el("span", {className: "tile-counter", text: T.counter + " " + counter.number}),
          Luot.el("span", {className: "tile-number", text: counter.ticket || "—"})
        ]));
      });
  }

  function renderRecent() {
    var list = Luot.clear($("recent-calls"));
    recent.slice(0, RECENT).forEach(function (call, index) {
      list.appendChild(Luot.el("li", {className: index === 0 ? "newest" : ""}, [
        Luot.el("span", {className: "recent-number", text: call.number}),
        Luot.el("span", {className: "recent-counter", text: "→ " + T.counter + " " + call.counter})
      ]));
    });
  }

  function renderWaiting(services) {
    var list = Luot.clear($("waiting-list"));
    services.forEach(function (service) {
      list.appendChild(Luot.el("li", {}, [
        Luot.el("span", {className: "waiting-service", text: lang === "en" ? (service.name_en || service.name) : service.name}),
        Luot.el("span", {className: "waiting-count", text: String(service.waiting)})
      ]));
    });
  }

  function showLatest(call) {
    $("latest-number").textContent = call.number;
    $("latest-counter").textContent = T.to_counter + " " + call.counter;
    var box = document.querySelector(".now-calling");
    box.classList.remove("blink"); void box.offsetWidth; box.classList.add("blink");
  }

  function playClip(url) {
    return new Promise(function (resolve) {
      var clip = url === "chime" ? chime : new Audio(url);
      clip.currentTime = 0;
      clip.onended = resolve; clip.onerror = resolve;
      var started = clip.play();
      if (started && started.catch) started.catch(resolve);
      setTimeout(resolve, 15000);
    });
  }

  /* Calls are announced one after another, never over each other. */
  function announce(call) {
    if (!soundOn) return;
    playing = playing.then(function () { return playClip("chime"); }).then(function () {
      var url = call.announcement && call.announcement.audio_url;
      var times = (call.announcement && call.announcement.repeat) || 1;
      var chain = Promise.resolve();
      if (url) for (var i = 0; i < times; i++) chain = chain.then(function () { return playClip(url); });
      return chain;
    });
  }

  function onSnapshot(snapshot) {
    $("centre-name").textContent = lang === "en" ? (snapshot.centre.name_en || snapshot.centre.name) : snapshot.centre.name;
    $("notice-text").textContent = snapshot.notice || "";
    counters = {};
    snapshot.counters.forEach(function (counter) {
      if (!data.filtered || shown.has(counter.id)) counters[counter.id] = {number: counter.number, ticket: counter.ticket, state: counter.state};
    });
    recent = snapshot.recent_calls.filter(function (call) { return !data.filtered || Object.keys(counters).some(function (id) { return counters[id].number === call.counter; }); });
    if (recent.length) showLatest(recent[0]);
    renderTiles(); renderRecent(); renderWaiting(snapshot.services);
  }

  function onCalled(call) {
    var counterKey = Object.keys(counters).filter(function (id) { return counters[id].number === call.counter; })[0];
    if (data.filtered && !counterKey) return;
    if (counterKey) {
      counters[counterKey].ticket = call.number;
      counters[counterKey].flash = true;
      setTimeout(function () { counters[counterKey].flash = false; renderTiles(); }, HIGHLIGHT_MS);
    }
    recent = [call].concat(recent.filter(function (c) { return c.ticket_id !== call.ticket_id; })).slice(0, RECENT);
    showLatest(call); renderTiles(); renderRecent(); announce(call);
  }

  function tick() {
    var now = new Date();
    $("display-clock").textContent = now.toLocaleString(lang === "en" ? "en-GB" : "vi-VN",
      {weekday: "long", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: data.tz});
  }
  setInterval(tick, 10000); tick();

  $("sound-start").addEventListener("click", function () {
    soundOn = true;
    $("sound-gate").hidden = true;
    chime.play().catch(function () {});
    if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(function () {});
  });

  Luot.connect({handlers: {
    snapshot: onSnapshot,
    ticket_called: onCalled,
    queue_changed: function (payload) { renderWaiting(payload.services); }
  }});
})();
