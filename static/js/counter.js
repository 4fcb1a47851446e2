/* Counter panel: sign in at a counter, then call, recall, start, finish, no-show, transfer, pause. */
"use strict";
(function () {
  var data = Luot.pageData(), T = data.texts, lang = data.lang;
  var counterId = data.counter, state = null, socket = null, timer = null;
  var $ = function (id) { return document.getElementById(id); };

  function message(text) { $("counter-message").textContent = text || ""; $("counter-message").hidden = !text; }

  function counterById(id) { return data.counters.filter(function (c) { return c.id === id; })[0]; }

  function showChooser() {
    $("choose").hidden = false; $("panel").hidden = true;
    var list = Luot.clear($("counter-list"));
    data.counters.forEach(function (counter) {
      list.appendChild(Luot.el("button", {type: "button", className: "big counter-choice", "data-counter": counter.id,
        onclick: function () { signIn(counter.id); }}, [
        Luot.el("strong", {text: counter.name}),
        Luot.el("span", {text: counter.clerk ? "● " + counter.clerk : counter.services.join(", ")})
      ]));
    });
  }

  function signIn(id) {
    Luot.api("POST", "/counters/" + id + "/sign-in").then(function (response) {
      if (!response.ok) { alert(response.data.error); return; }
      counterId = id;
      openPanel(response.data);
    });
  }

  function openPanel(snapshot) {
    $("choose").hidden = true; $("panel").hidden = false;
    $("counter-title").textContent = counterById(counterId).name;
    render(snapshot);
    if (socket && socket.connected) socket.emit("watch_counter", counterId);
  }

  function render(snapshot) {
    state = snapshot;
    var ticket = snapshot.current;
    $("counter-state").textContent = snapshot.state === "paused" ? T.pause + (snapshot.pause_reason ? " · " + data.pause_reasons[snapshot.pause_reason] : "") : (snapshot.state === "open" ? "●" : snapshot.state);
    $("counter-state").className = "state-pill state-" + snapshot.state;
    $("waiting-count").textContent = (snapshot.waiting || 0) + " " + T.waiting;
    $("current-number").textContent = ticket ? ticket.number : "—";
    $("current-service").textContent = ticket ? ticket.service_name + (ticket.priority_name ? " · ★ " + ticket.priority_name : "") : "";
    $("current-citizen").textContent = ticket && ticket.citizen_name ? ticket.citizen_name + (ticket.citizen_id_last4 ? " · …" + ticket.citizen_id_last4 : "") : "";
    var status = ticket ? ticket.status : null;
    $("btn-next").disabled = !!ticket || snapshot.state === "paused";
    $("btn-recall").disabled = status !== "called";
    $("btn-start").disabled = status !== "called";
    $("btn-noshow").disabled = status !== "called";
    $("btn-finish").disabled = status !== "serving";
    $("btn-transfer").disabled = !ticket;
    $("btn-pause").textContent = snapshot.state === "paused" ? T.resume : T.pause;
    clearInterval(timer);
    if (ticket && status === "serving" && ticket.started_at) {
      var started = new Date(ticket.started_at).getTime();
      var tick = function () {
        var seconds = Math.max(0, Math.floor((Date.now() - started) / 1000));
        $("current-timer").textContent = "⏱ " + Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
      };
      tick(); timer = setInterval(tick, 1000);
    } else {
      $("current-timer").textContent = "";
    }
  }

  function refresh() {
    return Luot.api("GET", "/counters/" + counterId).then(function (response) { if (response.ok) render(response.data); });
  }

  function act(method, path, body) {
    message("");
    return Luot.api(method, path, body).then(function (response) {
      if (!response.ok) { message(response.data.error); return response; }
      if (response.data && response.data.ticket === null) message(T.none_waiting);
      return refresh().then(function () { return response; });
    });
  }

  function ticketPath(action) { return "/tickets/" + encodeURIComponent(state.current.id) + "/" + action; }

  var actions = {
    next: function () { if (!$("btn-next").disabled) act("POST", "/counters/" + counterId + "/call-next"); },
    recall: function () { if (!$("btn-recall").disabled) act("POST", ticketPath("recall")); },
    start: function () { if (!$("btn-start").disabled) act("POST", ticketPath("start")); },
    noshow: function () { if (!$("btn-noshow").disabled) act("POST", ticketPath("no-show")); },
    finish: function () { if (!$("btn-finish").disabled) openFinish(); },
    transfer: function () { if (!$("btn-transfer").disabled) openTransfer(); },
    pause: function () {
      if (state.state === "paused") act("POST", "/counters/" + counterId + "/resume");
      else $("pause-dialog").showModal();
    }
  };

  function openFinish() {
    var procedures = data.procedures[state.current.service] || [];
    var list = Luot.clear($("procedure-list"));
    procedures.forEach(function (procedure, index) {
      list.appendChild(Luot.el("label", {className: "procedure-option", "data-search": (procedure.code + " " + procedure.name).toLowerCase()}, [
        Luot.el("input", {type: "checkbox", value: procedure.code, checked: procedures.length === 1 && index === 0}),
        " " + procedure.name
      ]));
    });
    $("procedure-filter").value = "";
    $("dossier-number").value = "";
    $("finish-dialog").showModal();
    $("procedure-filter").focus();
  }

  $("procedure-filter").addEventListener("input", function () {
    var needle = this.value.trim().toLowerCase();
    Array.prototype.forEach.call(document.querySelectorAll(".procedure-option"), function (option) {
      option.hidden = needle && option.getAttribute("data-search").indexOf(needle) < 0;
    });
  });

  $("finish-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var codes = Array.prototype.map.call(document.querySelectorAll(".procedure-option input:checked"), function (box) { return box.value; });
    if (!codes.length) { alert(lang === "en" ? "Choose the procedure handled." : "Hãy chọn thủ tục đã giải quyết."); return; }
    var body = {procedures: codes};
    var dossier = $("dossier-number").value.trim();
    if (dossier) body.dossier_number = dossier;
    $("finish-dialog").close();
    act("POST", ticketPath("finish"), body);
  });

  function openTransfer() {
    var services = Luot.clear($("transfer-service")), counters = Luot.clear($("transfer-counter"));
    services.appendChild(Luot.el("option", {value: "", text: "—"}));
    data.services.forEach(function (service) { services.appendChild(Luot.el("option", {value: service.code, text: service.name})); });
    counters.appendChild(Luot.el("option", {value: "", text: "—"}));
    data.counters.forEach(function (counter) {
      if (counter.id !== counterId) counters.appendChild(Luot.el("option", {value: counter.id, text: counter.name}));
    });
    $("transfer-dialog").showModal();
  }

  $("transfer-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var service = $("transfer-service").value, counter = $("transfer-counter").value;
    if (!service === !counter) { alert(lang === "en" ? "Choose a service or a counter." : "Chọn một lĩnh vực hoặc một quầy."); return; }
    $("transfer-dialog").close();
    act("POST", ticketPath("transfer"), service ? {service: service} : {counter: parseInt(counter, 10)});
  });

  Object.keys(data.pause_reasons).forEach(function (reason) {
    $("pause-reasons").appendChild(Luot.el("button", {type: "button", className: "big", text: data.pause_reasons[reason],
      onclick: function () { $("pause-dialog").close(); act("POST", "/counters/" + counterId + "/pause", {reason: reason}); }}));
  });
  ["finish", "transfer", "pause"].forEach(function (name) {
    $(name + "-cancel").addEventListener("click", function () { $(name + "-dialog").close(); });
  });

  $("btn-next").addEventListener("click", actions.next);
  $("btn-recall").addEventListener("click", actions.recall);
  $("btn-start").addEventListener("click", actions.start);
  $("btn-finish").addEventListener("click", actions.finish);
  $("btn-noshow").addEventListener("click", actions.noshow);
  $("btn-transfer").addEventListener("click", actions.transfer);
  $("btn-pause").addEventListener("click", actions.pause);
  $("btn-leave").addEventListener("click", function () {
    Luot.api("POST", "/counters/" + counterId + "/sign-out").then(function (response) {
      if (!response.ok) { message(response.data.error); return; }
      counterId = null; showChooser();
    });
  });

  var SHORTCUTS = {n: "next", r: "recall", s: "start", f: "finish", v: "noshow", t: "transfer", p: "pause"};
  document.addEventListener("keydown", function (event) {
    if (!counterId || event.ctrlKey || event.altKey || event.metaKey) return;
    if (document.querySelector("dialog[open]") || /INPUT|SELECT|TEXTAREA/.test(event.target.tagName)) return;
    var action = SHORTCUTS[event.key.toLowerCase()];
    if (action) { event.preventDefault(); actions[action](); }
  });

  socket = Luot.connect({handlers: {
    connect: function () { if (counterId) socket.emit("watch_counter", counterId); },
    counter_snapshot: function (snapshot) { if (snapshot.counter === counterId) render(snapshot); },
    counter_changed: function (payload) { if (payload.counter === counterId) refresh(); },
    queue_changed: function (payload) {
      if (!counterId || !state) return;
      var mine = counterById(counterId).services;
      state.waiting = payload.services.reduce(function (sum, row) { return sum + (mine.indexOf(row.code) >= 0 ? row.waiting : 0); }, 0);
      $("waiting-count").textContent = state.waiting + " " + T.waiting;
    }
  }});

  if (counterId) refresh().then(function () { openPanel(state); });
  else showChooser();
})();
