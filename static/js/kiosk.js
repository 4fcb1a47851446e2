/* Kiosk: choose a service, optionally a priority group and an ID-card scan, get a ticket. */
"use strict";
(function () {
  var data = Luot.pageData(), T = data.texts, lang = data.lang;
  var IDLE_RESET_MS = 30000, TICKET_RESET_MS = 20000;
  var TOKEN_KEY = "luot.kiosk.token";
  var token = null, services = [], chosenService = null, scannedCard = null, idleTimer = null, issuing = false;
  var currentScreen = "screen-home", shownTicket = null;
  var ENTRY_CHOICES = {appointment: "choice-appointment", result: "choice-result"};

  var hashToken = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (hashToken) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(hashToken[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  token = localStorage.getItem(TOKEN_KEY);

  var $ = function (id) { return document.getElementById(id); };

  var kioskApi = window.LuotKiosk = window.LuotKiosk || {};
  var registered = kioskApi.flows || {};
  kioskApi.flows = {};
  Object.keys(ENTRY_CHOICES).forEach(function (name) {
    var flow = registered[name];
    Object.defineProperty(kioskApi.flows, name, {enumerable: true, configurable: true,
      get: function () { return flow; },
      set: function (value) { flow = value; showEntryChoices(); }});
  });
  kioskApi.guidance = kioskApi.guidance || {};  // screen id → function returning the guidance query of a flow's screen
  kioskApi.show = function (screen) { resetIdle(); show(screen); };
  kioskApi.home = function () { goHome(); };
  kioskApi.showTicket = function (ticket) { showTicket(ticket); };
  kioskApi.message = function (text) { message(text); };
  kioskApi.resetIdle = function (delay) { resetIdle(delay); };
  kioskApi.token = function () { return token; };
  kioskApi.lang = lang;
  kioskApi.texts = T;

  /* One decision per screen: exactly one `main > .screen` shows (flows' own screens included). */
  function show(screen) {
    Array.prototype.forEach.call(document.querySelectorAll("main > .screen"), function (node) { node.hidden = node.id !== screen; });
    currentScreen = screen;
    if (screen === "screen-home" || screen === "screen-back") focusCardInput();
  }

  function message(text) {
    var node = $("kiosk-message");
    node.textContent = text || "";
    node.hidden = !text;
  }

  function resetIdle(delay) {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(goHome, delay || IDLE_RESET_MS);
  }

  function goHome() {
    chosenService = null; scannedCard = null;
    $("card-status").textContent = T.scan_card_hint;
    $("card-status").className = "card-status";
    $("assistant-answer").hidden = true;
    $("ask-text").value = "";
    message(token ? "" : T.kiosk_not_activated);
    show("screen-home");
    loadServices();
    loadGreeting();
  }

  function serviceButton(service) {
    var unavailable = service.closed_reason === "holiday" ? T.holiday_closed
                    : service.closed_reason === "cut_off" ? T.cut_off
                    : !service.open ? T.closed + (service.opening_hours_text ? " · " + service.opening_hours_text : "")
                    : (service.sold_out ? T.sold_out : null);
    return Luot.el("button", {type: "button", className: "service-button" + (unavailable ? " unavailable" : ""),
                              "data-service": service.code, disabled: !!unavailable,
                              onclick: function () { chooseService(service); }}, [
      Luot.el("span", {className: "service-top"}, [
        Luot.el("span", {className: "service-prefix", text: service.prefix}),
        // the wait sits under the count, beside the big prefix, so the tiles keep their height and all fit
        Luot.el("span", {className: "service-queue"}, [
          Luot.el("span", {className: "service-waiting", "data-waiting": service.code,
                           text: unavailable || (service.waiting + " " + T.waiting)}),
          unavailable ? null : Luot.el("span", {className: "service-wait", "data-wait": service.code,
                                                text: tileWait(service.estimated_wait_s)})
        ])
      ]),
      Luot.el("span", {className: "service-name", text: lang === "en" ? (service.name_en || service.name) : service.name})
    ]);
  }

  /* A tile's expected wait for a newcomer; with no open counter there is no time to give, so say why. */
  function tileWait(seconds) {
    var minutes = Luot.minutes(seconds);
    return minutes === null ? T.no_counter_short : T.wait_about.replace("{n}", minutes);
  }

  /* The ticket's wait as the slip prints it ("Khoảng 15–25 phút"), or the no-counter sentence. */
  function ticketWait(ticket) {
    var range = ticket.estimated_wait_s === null ? null : Luot.waitRange(ticket.estimated_wait_range_s);
    return range ? T.wait_range.replace("{low}", range[0]).replace("{high}", range[1]) : T.no_counter_open;
  }

  var entryButtons = Object.keys(ENTRY_CHOICES).map(function (name) { return $(ENTRY_CHOICES[name]); });

  /* The entry buttons (appointment, result) come first, as large as the services, each shown only once its
     flow registered itself in LuotKiosk.flows. */
  function renderServices() {
    var grid = Luot.clear($("services"));
    entryButtons.forEach(function (button) { grid.appendChild(button); });
    services.forEach(function (service) { grid.appendChild(serviceButton(service)); });
    showEntryChoices();
  }

  function showEntryChoices() {
    Object.keys(ENTRY_CHOICES).forEach(function (name) {
      $(ENTRY_CHOICES[name]).hidden = typeof kioskApi.flows[name] !== "function";
    });
  }

  function loadServices() {
    return Luot.api("GET", "/services").then(function (response) {
      if (!response.ok) { message(response.data.error); return; }
      // the result-return service is taken through «Nhận kết quả» with a receipt, not as a tile (issue 16)
      services = response.data.filter(function (service) { return service.code !== data.return_service; });
      renderServices();
      // On a holiday every service is closed for the same reason: say it once, with when it opens again.
      var holiday = services.filter(function (s) { return s.closed_reason === "holiday"; })[0];
      if (holiday && token) message(holiday.closed_message);
    });
  }

  function loadGreeting() {
    Luot.api("GET", "/assistant/greeting?lang=" + lang).then(function (response) {
      if (response.ok && response.data.text) $("greeting").textContent = response.data.text;
    });
  }

  function chooseService(service) {
    resetIdle();
    chosenService = service;
    if (!data.priority_groups.length) { issue(null); return; }
    $("priority-service").textContent = lang === "en" ? (service.name_en || service.name) : service.name;
    var grid = Luot.clear($("priority-groups"));
    grid.appendChild(Luot.el("button", {type: "button", className: "big primary priority-none",
                                        onclick: function () { issue(null); }, text: T.no_priority}));
    data.priority_groups.forEach(function (group) {
      var suggested = scannedCard && scannedCard.suggested_priority === group.code;
      grid.appendChild(Luot.el("button", {type: "button", className: "big priority-button" + (suggested ? " suggested" : ""),
                                          "data-priority": group.code, text: group.name,
                                          onclick: function () { issue(group.code); }}));
    });
    show("screen-priority");
  }

  /* One ticket per tap: a second tap while the first request runs is ignored. */
  function issue(priority) {
    resetIdle();
    if (issuing || !chosenService) return;
    issuing = true;
    var body = {service: chosenService.code, lang: lang};
    if (priority) body.priority = priority;
    if (scannedCard) body.citizen_qr = scannedCard.raw;
    Luot.api("POST", "/tickets", body, token).then(function (response) {
      issuing = false;
      if (!response.ok) {
        show("screen-home");
        message(response.status === 401 || !token ? T.kiosk_not_activated : response.data.error);
        return;
      }
      message("");
      showTicket(response.data);
    });
  }

  function showTicket(ticket) {
    shownTicket = ticket;
    $("ticket-number").textContent = ticket.number;
    $("ticket-service").textContent = lang === "en" ? (ticket.service_name_en || ticket.service_name) : ticket.service_name;
    $("ticket-priority").hidden = !ticket.priority;
    $("ticket-priority").textContent = ticket.priority ? "★ " + ticket.priority : "";
    // position counts the tickets expected to be called before this one: it is the people ahead as it is
    $("ticket-ahead").textContent = String(ticket.position);
    $("ticket-wait").textContent = ticketWait(ticket);
    $("ticket-wait").classList.toggle("no-forecast", ticket.estimated_wait_s === null);
    $("ticket-qr").src = ticket.track_url + "/qr.svg";
    $("print-status").textContent = ticket.print && ticket.print.message ? ticket.print.message : "";
    $("print-status").hidden = !$("print-status").textContent;
    show("screen-ticket");
    document.dispatchEvent(new CustomEvent("luot:ticket", {detail: ticket}));  // e.g. the SMS opt-in (issue 15)
    resetIdle(TICKET_RESET_MS);
  }

  /* A keyboard-wedge scanner types the card's QR followed by Enter into this hidden field. */
  function focusCardInput() {
    var active = document.activeElement;
    if (active !== $("ask-text") && !(active && active.hasAttribute("data-own-input"))) $("card-input").focus({preventScroll: true});
  }

  $("card-input").addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    var raw = this.value;
    this.value = "";
    if (!raw) return;
    resetIdle();
    // A slip's QR is its tracking link (/t/<id>): the citizen is back after a no-show, not taking a number.
    if (/\/t\/[A-Za-z0-9_-]+/.test(raw) || !$("screen-back").hidden) { comeBack(raw); return; }
    // A receipt's QR is its dossier's link (/d/<key>): the citizen comes for a result (issue 16).
    var flows = (window.LuotKiosk || {}).flows || {};
    if (/\/d\/[A-Za-z0-9_-]+/.test(raw) && flows.result) { flows.result(raw); return; }
    Luot.api("POST", "/citizen/check", {citizen_qr: raw}, token).then(function (response) {
      var status = $("card-status");
      if (!response.ok) {
        scannedCard = null;
        status.textContent = response.data.error;
        status.className = "card-status error";
        return;
      }
      scannedCard = {raw: raw, suggested_priority: response.data.suggested_priority};
      status.textContent = "✓ " + response.data.name + (response.data.elderly ? " — " + response.data.age : "");
      status.className = "card-status ok";
    });
  });

  function showBack() {
    resetIdle();
    $("back-result").textContent = T.im_back_hint;
    $("back-result").className = "question";
    show("screen-back");
  }

  function comeBack(scan) {
    show("screen-back");
    Luot.api("POST", "/kiosk/back", {scan: scan}, token).then(function (response) {
      var result = $("back-result");
      if (!response.ok) {
        result.textContent = response.status === 401 || !token ? T.kiosk_not_activated : response.data.error;
        result.className = "question error";
      } else {
        var ticket = response.data.ticket;
        result.textContent = T.im_back_ok.replace("{number}", ticket.number)
          .replace("{ahead}", String(Math.max(0, ticket.position - 1)));
        result.className = "question ok";
      }
      resetIdle(TICKET_RESET_MS);
    });
  }

  $("im-back").addEventListener("click", showBack);
  $("back-home").addEventListener("click", goHome);

  $("ask-form").addEventListener("submit", function (event) {
    event.preventDefault();
    resetIdle();
    var text = $("ask-text").value.trim();
    if (!text) return;
    Luot.api("POST", "/assistant/ask", {text: text, lang: lang}).then(function (response) {
      var box = Luot.clear($("assistant-answer"));
      box.hidden = false;
      if (!response.ok) { box.appendChild(Luot.el("p", {text: response.data.error})); return; }
      var answer = response.data;
      box.appendChild(Luot.el("p", {className: "assistant-reply", text: answer.reply}));
      /* The ask was a touch, so the browser lets the kiosk speak the answer (issue 13). */
      if (answer.audio_url) { try { new Audio(answer.audio_url).play().catch(function () {}); } catch (e) { /* no audio */ } }
      if (answer.life_event) { showLifeEvent(box, answer.life_event); return; }
      /* Unsure: the three choices ("Có phải Ông/Bà cần…?"); sure: the one procedure. */
      var offered = (answer.choices && answer.choices.length) ? answer.choices : (answer.suggestions || []).slice(0, 1);
      offered.forEach(function (suggestion) { box.appendChild(suggestionCard(suggestion, answer.choices.length > 0)); });
    });
  });

  function serviceOf(code) { return services.filter(function (s) { return s.code === code; })[0]; }

  function suggestionCard(suggestion, isChoice) {
    var service = serviceOf(suggestion.service);
    return Luot.el("div", {className: "suggestion" + (isChoice ? " assistant-choice" : "")}, [
      Luot.el("span", {className: "suggestion-name", text: suggestion.name}),
      Luot.el("span", {className: "suggestion-facts",
                       text: [suggestion.service_name, suggestion.legal_time, suggestion.fee].filter(Boolean).join(" · ")}),
      service ? Luot.el("button", {type: "button", className: "big primary", text: T.take_number,
                                   onclick: function () { chooseService(service); }}) : null
    ]);
  }

  /* A life event: its steps in order, what each costs and takes; the ticket is for the first step. */
  function showLifeEvent(box, event) {
    box.appendChild(Luot.el("h3", {className: "life-event-name", text: event.name}));
    var list = Luot.el("ol", {className: "life-event-steps"});
    event.steps.forEach(function (step, index) {
      var facts = [step.legal_time, step.fee].filter(Boolean).join(" · ");
      var service = index === 0 ? serviceOf(step.service) : null;
      list.appendChild(Luot.el("li", {className: "life-event-step" + (index === 0 ? " first" : "")}, [
        Luot.el("span", {className: "suggestion-name", text: step.name}),
        facts ? Luot.el("span", {className: "suggestion-facts", text: facts}) : null,
        step.documents && step.documents.length ? Luot.el("span", {className: "step-documents",
          text: T.bring + ": " + step.documents.join("; ")}) : null,
        service ? Luot.el("button", {type: "button", className: "big primary", text: T.take_number,
                                     onclick: function () { chooseService(service); }}) : null
      ]));
    });
    box.appendChild(list);
  }

  /* "Nghe hướng dẫn": the server reads this screen's choices aloud (espeak-ng WAVs, cached: no network needed). */
  var GUIDED = {"screen-home": "home", "screen-priority": "priority", "screen-ticket": "ticket", "screen-back": "back"};
  var guidance = null;
  $("listen").addEventListener("click", function () {
    resetIdle();
    var flowScreen = kioskApi.guidance[currentScreen];
    var query = flowScreen ? flowScreen() : {screen: GUIDED[currentScreen] || "home"};
    query.lang = lang;
    if (query.screen === "home") {
      query.choices = Object.keys(ENTRY_CHOICES).filter(function (name) { return !$(ENTRY_CHOICES[name]).hidden; }).join(",");
    }
    if (query.screen === "ticket" && shownTicket) query.number = shownTicket.number;
    var url = "/kiosk/guidance.wav?" + Object.keys(query).map(function (name) {
      return encodeURIComponent(name) + "=" + encodeURIComponent(query[name]);
    }).join("&");
    if (guidance) guidance.pause();
    guidance = new Audio(url);
    $("listen").classList.add("playing");
    guidance.addEventListener("ended", function () { $("listen").classList.remove("playing"); });
    guidance.play().catch(function () { $("listen").classList.remove("playing"); message(T.listen_failed); });
  });

  /* High contrast: white on black, yellow accents, thicker borders; kept on this kiosk like the text size. */
  function applyContrast(on) {
    document.documentElement.classList.toggle("high-contrast", on);
    $("high-contrast").setAttribute("aria-pressed", on ? "true" : "false");
    localStorage.setItem("luot.kiosk.contrast", on ? "1" : "");
  }
  $("high-contrast").addEventListener("click", function () {
    applyContrast(!document.documentElement.classList.contains("high-contrast"));
  });
  applyContrast(!!localStorage.getItem("luot.kiosk.contrast"));

  $("priority-back").addEventListener("click", goHome);
  $("ticket-done").addEventListener("click", goHome);
  document.addEventListener("pointerdown", function () { resetIdle(); });
  document.addEventListener("click", function () { setTimeout(focusCardInput, 0); });

  var fontScale = parseFloat(localStorage.getItem("luot.kiosk.font") || "1");
  // a factor on the kiosk's own size, which follows the screen (css: --kiosk-font-scale)
  function applyFont() { document.documentElement.style.setProperty("--kiosk-font-scale", String(fontScale)); }
  $("font-larger").addEventListener("click", function () { fontScale = Math.min(1.6, fontScale + 0.15); localStorage.setItem("luot.kiosk.font", fontScale); applyFont(); });
  $("font-smaller").addEventListener("click", function () { fontScale = Math.max(0.85, fontScale - 0.15); localStorage.setItem("luot.kiosk.font", fontScale); applyFont(); });
  applyFont();

  function tick() {
    $("clock").textContent = new Date().toLocaleString(lang === "en" ? "en-GB" : "vi-VN",
      {weekday: "long", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: data.tz});
  }
  setInterval(tick, 15000); tick();

  /* What other features' kiosk flows use (static/js/kiosk_appointment.js, kiosk_result.js): a flow registers
     itself as `LuotKiosk.flows.appointment = function () {...}` (or `result`), before or after this file runs,
     and its entry button appears; it shows its own `main > .screen` with LuotKiosk.show(id). */
  entryButtons.forEach(function (button) {
    var name = button.id.replace("choice-", "");
    button.addEventListener("click", function () { resetIdle(); if (kioskApi.flows[name]) kioskApi.flows[name](); });
  });

  Luot.connect({token: token, handlers: {
    queue_changed: function (payload) {
      payload.services.forEach(function (row) {
        services.forEach(function (service) {
          if (service.code !== row.code) return;
          service.waiting = row.waiting;
          service.estimated_wait_s = row.estimated_wait_s;
          service.estimated_wait_range_s = row.estimated_wait_range_s;
        });
        var node = document.querySelector('[data-waiting="' + row.code + '"]');
        var button = node && node.closest("button");
        if (node && button && !button.disabled) node.textContent = row.waiting + " " + T.waiting;
        var wait = document.querySelector('[data-wait="' + row.code + '"]');
        if (wait) wait.textContent = tileWait(row.estimated_wait_s);
      });
    },
    /* The administrator changed services or priority groups: start afresh, unless a citizen is mid-way. */
    configuration_changed: function () {
      if (!$("screen-home").hidden) location.reload();
    }
  }});
  goHome();
})();
