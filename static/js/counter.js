/* Counter panel: sign in at a counter, then call, recall, start, finish, no-show, transfer, pause. */
"use strict";
(function () {
  var data = Luot.pageData(), T = data.texts, lang = data.lang;
  var counterId = data.counter, state = null, socket = null, timer = null;
  var $ = function (id) { return document.getElementById(id); };
  var serviceNames = {};
  data.services.forEach(function (service) { serviceNames[service.code] = service.name; });

  function message(text) { $("counter-message").textContent = text || ""; $("counter-message").hidden = !text; }

  function counterById(id) { return data.counters.filter(function (c) { return c.id === id; })[0]; }

  /* Search ignores case and diacritics: "dang ky khai sinh" finds "Đăng ký khai sinh". */
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toLowerCase();
  }

  function showChooser(problem) {
    $("choose").hidden = false; $("panel").hidden = true;
    $("counter-title").textContent = document.title.split(" · ")[0];
    $("choose-message").textContent = problem || "";
    $("choose-message").hidden = !problem;
    var list = Luot.clear($("counter-list"));
    data.counters.forEach(function (counter) {
      var taken = counter.clerk && !counter.mine;
      list.appendChild(Luot.el("button", {type: "button", className: "big counter-choice", "data-counter": counter.number,
        disabled: !!taken, onclick: function () { signIn(counter.id); }}, [
        Luot.el("strong", {text: counter.name}),
        Luot.el("span", {className: "choice-services",
                         text: counter.services.map(function (code) { return serviceNames[code] || code; }).join(" · ")}),
        taken ? Luot.el("span", {className: "choice-clerk", text: T.counter_taken_by + " " + counter.clerk}) : null
      ]));
    });
  }

  function signIn(id) {
    Luot.api("POST", "/counters/" + id + "/sign-in").then(function (response) {
      if (!response.ok) { showChooser(response.data.error); return; }
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

  function serviceName(row) { return lang === "en" ? (row.name_en || row.name) : row.name; }

  function renderQueue(services) {
    var body = Luot.clear($("counter-services"));
    services.forEach(function (service) {
      body.appendChild(Luot.el("tr", {"data-service": service.code}, [
        Luot.el("td", {text: serviceName(service)}),
        Luot.el("td", {className: "num", text: String(service.waiting)}),
        Luot.waitCell(service.estimated_wait_s, T.no_counter_short)
      ]));
    });
  }

  function stateText(snapshot) {
    if (snapshot.state === "paused") {
      return "⏸ " + T.state_paused + (snapshot.pause_reason ? " · " + (data.pause_reasons[snapshot.pause_reason] || snapshot.pause_reason) : "");
    }
    return snapshot.state === "open" ? "● " + T.state_open : T.state_closed;
  }

  function clockText(seconds) {
    var minutes = Math.floor(seconds / 60);
    return minutes + ":" + String(seconds % 60).padStart(2, "0");
  }

  function render(snapshot) {
    state = snapshot;
    var ticket = snapshot.current, status = ticket ? ticket.status : null;
    $("counter-state").textContent = stateText(snapshot);
    $("counter-state").className = "state-pill state-" + snapshot.state;
    $("waiting-count").textContent = (snapshot.waiting || 0) + " " + T.waiting;
    $("current").className = "current" + (status ? " status-" + status : "");
    var label = status === "called" ? T.status_called : (status === "serving" ? T.status_serving : T.current_ticket);
    if (status === "called" && ticket.recall_count) label += " · " + T.recalled_times.replace("{n}", ticket.recall_count);
    $("current-label").textContent = label;
    $("current-number").textContent = ticket ? ticket.number : "—";
    $("current-service").textContent = ticket ? ticket.service_name + (ticket.priority_name ? " · ★ " + ticket.priority_name : "")
      + (ticket.channel === "appointment" ? " · 📅 " + T.appointment_badge : "") : "";
    $("current-citizen").textContent = ticket && ticket.citizen_name
      ? ticket.citizen_name + (ticket.citizen_birth_year ? " · " + ticket.citizen_birth_year : "") + (ticket.citizen_id_last4 ? " · …" + ticket.citizen_id_last4 : "")
      : "";
    $("btn-next").disabled = !!ticket || snapshot.state === "paused";
    $("btn-call-number").disabled = !!ticket || snapshot.state === "paused";
    $("btn-recall").disabled = status !== "called";
    $("btn-start").disabled = status !== "called";
    $("btn-noshow").disabled = status !== "called";
    $("btn-finish").disabled = status !== "serving";
    $("btn-transfer").disabled = !ticket;
    $("btn-priority").disabled = !ticket;
    $("pause-label").textContent = snapshot.state === "paused" ? T.resume : T.pause;
    if (window.LuotCounterDossier) LuotCounterDossier.current(ticket);
    if (snapshot.services) renderQueue(snapshot.services);
    clearInterval(timer);
    var since = status === "serving" ? ticket.started_at : (status === "called" ? ticket.called_at : null);
    if (since) {
      var from = new Date(since).getTime();
      var tick = function () {
        $("current-timer").textContent = clockText(Math.max(0, Math.floor((Date.now() - from) / 1000)));
      };
      tick(); timer = setInterval(tick, 1000);
    } else {
      $("current-timer").textContent = "";
    }
  }

  function refresh() {
    return Luot.api("GET", "/counters/" + counterId).then(function (response) { if (response.ok) render(response.data); });
  }

  // Actions run one after another: a key pressed while the previous answer is still on its way (the
  // counter's socket event can show the new ticket before the HTTP answer arrives) waits its turn instead
  // of being dropped; the same action pressed twice (a double click) is sent once.
  var queued = Promise.resolve(), pending = {};
  function act(method, path, body) {
    var key = method + " " + path;
    if (pending[key]) return Promise.resolve(null);
    pending[key] = true;
    var run = function () {
      message("");
      return Luot.api(method, path, body).then(function (response) {
        delete pending[key];
        if (!response.ok) { message(response.data.error); return response; }
        if (response.data && response.data.ticket === null) message(T.none_waiting);
        return refresh().then(function () { return response; });
      }, function (error) { delete pending[key]; throw error; });
    };
    queued = queued.then(run, run);
    return queued;
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
    },
    callNumber: function () {
      if ($("btn-call-number").disabled) return;
      $("call-number-value").value = ""; $("call-number-reason").value = "";
      dialogError("call-number-error", "");
      $("call-number-dialog").showModal();
    },
    restore: function () {
      $("restore-number").value = "";
      dialogError("restore-error", "");
      $("restore-dialog").showModal();
    },
    priority: function () {
      if ($("btn-priority").disabled) return;
      var select = Luot.clear($("priority-value"));
      select.appendChild(Luot.el("option", {value: "", text: T.no_priority_group || "—"}));
      data.priority_groups.forEach(function (group) {
        select.appendChild(Luot.el("option", {value: group.code, text: group.name}));
      });
      select.value = state.current.priority || "";
      $("priority-number").textContent = state.current.number;
      $("priority-reason").value = "";
      dialogError("priority-error", "");
      $("priority-dialog").showModal();
    }
  };

  // ---- finish: choose the procedure(s) handled, by mouse or keyboard --------------------------

  function dialogError(id, text) { $(id).textContent = text || ""; $(id).hidden = !text; }

  function visibleOptions() {
    return Array.prototype.filter.call(document.querySelectorAll(".procedure-option"), function (option) { return !option.hidden; });
  }

  function openFinish() {
    var procedures = data.procedures[state.current.service] || [];
    var list = Luot.clear($("procedure-list"));
    procedures.forEach(function (procedure, index) {
      list.appendChild(Luot.el("label", {className: "procedure-option", "data-search": fold(procedure.code + " " + procedure.name)}, [
        Luot.el("input", {type: "checkbox", value: procedure.code, checked: procedures.length === 1 && index === 0}),
        Luot.el("span", {text: procedure.name})
      ]));
    });
    $("finish-number").textContent = state.current.number;
    $("procedure-filter").value = "";
    if (window.LuotCounterDossier) LuotCounterDossier.open(state.current);
    dialogError("finish-error", "");
    $("finish-dialog").showModal();
    $("procedure-filter").focus();
  }

  $("procedure-filter").addEventListener("input", function () {
    var words = fold(this.value).split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(document.querySelectorAll(".procedure-option"), function (option) {
      var haystack = option.getAttribute("data-search");
      option.hidden = !words.every(function (word) { return haystack.indexOf(word) >= 0; });
    });
  });

  function submitFinish() {
    var boxes = document.querySelectorAll(".procedure-option input:checked");
    var codes = Array.prototype.map.call(boxes, function (box) { return box.value; });
    if (!codes.length) {
      var visible = visibleOptions();
      // Typing until one procedure is left and pressing Enter is enough.
      if (visible.length === 1) { visible[0].querySelector("input").checked = true; codes = [visible[0].querySelector("input").value]; }
    }
    if (!codes.length) { dialogError("finish-error", T.choose_procedure_first); return; }
    var body = {procedures: codes};
    var dossier = window.LuotCounterDossier ? LuotCounterDossier.finishBody(codes) : {};
    if (dossier.error) { dialogError("finish-error", dossier.error); return; }
    if (dossier.dossier) body.dossier = dossier.dossier;
    $("finish-dialog").close();
    act("POST", ticketPath("finish"), body).then(function (response) {
      if (response && response.ok && window.LuotCounterDossier) LuotCounterDossier.finished(response.data.ticket);
    });
  }

  $("finish-form").addEventListener("submit", function (event) { event.preventDefault(); submitFinish(); });

  $("finish-dialog").addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      var stops = [$("procedure-filter")].concat(visibleOptions().map(function (option) { return option.querySelector("input"); }));
      var at = stops.indexOf(target);
      if (at < 0) return;
      event.preventDefault();
      var next = Math.min(stops.length - 1, Math.max(0, at + (event.key === "ArrowDown" ? 1 : -1)));
      stops[next].focus();
      if (stops[next].scrollIntoView) stops[next].scrollIntoView({block: "nearest"});
    } else if (event.key === "Enter" && target.tagName !== "BUTTON") {
      event.preventDefault();
      submitFinish();
    }
  });

  // ---- transfer and pause -----------------------------------------------------------------

  function openTransfer() {
    var services = Luot.clear($("transfer-service")), counters = Luot.clear($("transfer-counter"));
    services.appendChild(Luot.el("option", {value: "", text: "—"}));
    data.services.forEach(function (service) { services.appendChild(Luot.el("option", {value: service.code, text: service.name})); });
    counters.appendChild(Luot.el("option", {value: "", text: "—"}));
    data.counters.forEach(function (counter) {
      if (counter.id !== counterId) counters.appendChild(Luot.el("option", {value: counter.id, text: counter.name}));
    });
    dialogError("transfer-error", "");
    $("transfer-dialog").showModal();
  }

  $("transfer-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var service = $("transfer-service").value, counter = $("transfer-counter").value;
    if (!service === !counter) { dialogError("transfer-error", T.choose_target); return; }
    $("transfer-dialog").close();
    act("POST", ticketPath("transfer"), service ? {service: service} : {counter: parseInt(counter, 10)});
  });

  $("call-number-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {number: $("call-number-value").value.trim(), reason: $("call-number-reason").value.trim()};
    Luot.api("POST", "/counters/" + counterId + "/call-number", body).then(function (response) {
      if (!response.ok) { dialogError("call-number-error", response.data.error); return; }
      $("call-number-dialog").close();
      refresh();
    });
  });

  $("restore-form").addEventListener("submit", function (event) {
    event.preventDefault();
    Luot.api("POST", "/counters/" + counterId + "/restore", {number: $("restore-number").value.trim()}).then(function (response) {
      if (!response.ok) { dialogError("restore-error", response.data.error); return; }
      $("restore-dialog").close();
      message(T.restored_ok.replace("{number}", response.data.ticket.number));
    });
  });

  $("priority-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {priority: $("priority-value").value || null, reason: $("priority-reason").value.trim()};
    Luot.api("POST", ticketPath("priority"), body).then(function (response) {
      if (!response.ok) { dialogError("priority-error", response.data.error); return; }
      $("priority-dialog").close();
      refresh();
    });
  });

  Object.keys(data.pause_reasons).forEach(function (reason) {
    $("pause-reasons").appendChild(Luot.el("button", {type: "button", className: "big", text: data.pause_reasons[reason],
      "data-reason": reason,
      onclick: function () { $("pause-dialog").close(); act("POST", "/counters/" + counterId + "/pause", {reason: reason}); }}));
  });
  ["finish", "transfer", "pause", "call-number", "restore", "priority"].forEach(function (name) {
    $(name + "-cancel").addEventListener("click", function () { $(name + "-dialog").close(); });
  });

  $("btn-next").addEventListener("click", actions.next);
  $("btn-recall").addEventListener("click", actions.recall);
  $("btn-start").addEventListener("click", actions.start);
  $("btn-finish").addEventListener("click", actions.finish);
  $("btn-noshow").addEventListener("click", actions.noshow);
  $("btn-transfer").addEventListener("click", actions.transfer);
  $("btn-pause").addEventListener("click", actions.pause);
  $("btn-call-number").addEventListener("click", actions.callNumber);
  $("btn-restore").addEventListener("click", actions.restore);
  $("btn-priority").addEventListener("click", actions.priority);
  $("btn-leave").addEventListener("click", function () {
    Luot.api("POST", "/counters/" + counterId + "/sign-out").then(function (response) {
      if (!response.ok) { message(response.data.error); return; }
      var left = counterById(counterId);
      if (left) { left.clerk = null; left.mine = false; }
      counterId = null; clearInterval(timer); showChooser();
    });
  });

  var SHORTCUTS = {n: "next", r: "recall", s: "start", f: "finish", v: "noshow", t: "transfer", p: "pause",
                   g: "callNumber", k: "restore", u: "priority"};
  document.addEventListener("keydown", function (event) {
    if (!counterId || !state || event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
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
      var rows = payload.services.filter(function (row) { return mine.indexOf(row.code) >= 0; });
      state.waiting = rows.reduce(function (sum, row) { return sum + row.waiting; }, 0);
      state.services = rows;
      $("waiting-count").textContent = state.waiting + " " + T.waiting;
      renderQueue(rows);
    }
  }});

  if (counterId) refresh().then(function () { if (state) openPanel(state); else showChooser(); });
  else showChooser();
})();
