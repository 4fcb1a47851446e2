/* Manager's live monitor: waiting per service, counter states and recent calls, by push. */
"use strict";
(function () {
  var data = Luot.pageData(), T = data.texts, lang = data.lang;
  var STATE = {vi: {open: "Đang mở", paused: "Tạm dừng", closed: "Đóng"}, en: {open: "Open", paused: "Paused", closed: "Closed"}}[lang];
  var REASON = {vi: {"break": "nghỉ giải lao", meeting: "họp", system: "sự cố hệ thống", other: "khác"},
                en: {"break": "break", meeting: "meeting", system: "system issue", other: "other"}}[lang];
  var TICKET = {vi: {called: "đã gọi", serving: "đang phục vụ"}, en: {called: "called", serving: "serving"}}[lang];
  var counters = {}, calls = [], alerts = [], waitingBefore = {}, changedCounters = {};
  var $ = function (id) { return document.getElementById(id); };

  function name(row) { return lang === "en" ? (row.name_en || row.name) : row.name; }

  function renderServices(services) {
    var body = Luot.clear($("monitor-services"));
    services.forEach(function (service) {
      var changed = service.code in waitingBefore && waitingBefore[service.code] !== service.waiting;
      waitingBefore[service.code] = service.waiting;
      body.appendChild(Luot.el("tr", {"data-service": service.code, className: changed ? "changed" : ""}, [
        Luot.el("td", {text: name(service)}),
        Luot.el("td", {className: "num", text: String(service.waiting)}),
        Luot.waitCell(service.estimated_wait_s, T.no_counter_short)
      ]));
    });
  }

  function renderCounters() {
    var body = Luot.clear($("monitor-counters"));
    Object.keys(counters).map(function (id) { return counters[id]; }).sort(function (a, b) { return a.number - b.number; })
      .forEach(function (counter) {
        var state = STATE[counter.state] || counter.state;
        if (counter.state === "paused" && counter.pause_reason) state += " (" + (REASON[counter.pause_reason] || counter.pause_reason) + ")";
        var changed = changedCounters[counter.counter];
        delete changedCounters[counter.counter];
        body.appendChild(Luot.el("tr", {className: "state-" + counter.state + (changed ? " changed" : ""), "data-counter": counter.number}, [
          Luot.el("td", {text: counter.name}), Luot.el("td", {text: state}),
          Luot.el("td", {text: counter.clerk || ""}),
          Luot.el("td", {text: counter.ticket ? counter.ticket + (counter.ticket_status ? " · " + (TICKET[counter.ticket_status] || counter.ticket_status) : "") : "—"})
        ]));
      });
  }

  function renderCalls() {
    var list = Luot.clear($("monitor-calls"));
    calls.slice(0, 8).forEach(function (call) {
      list.appendChild(Luot.el("li", {text: call.number + " → " + T.counter + " " + call.counter + "  " + Luot.localTime(call.called_at, lang)}));
    });
  }

  function renderAlerts() {
    $("alerts-section").hidden = !alerts.length;
    var list = Luot.clear($("monitor-alerts"));
    alerts.forEach(function (alert) {
      list.appendChild(Luot.el("li", {text: lang === "en" && alert.message_en ? alert.message_en : alert.message}));
    });
  }

  /* Today's headline figures: drawn now, refreshed after live changes at most every few seconds. */
  var KPI_REFRESH_MS = 5000, kpiTimer = null;
  function minutesText(seconds) { return seconds === null || seconds === undefined ? "—" : Luot.minutes(seconds) + " " + T.minutes; }
  function renderKpis(kpis) {
    $("kpi-waiting_now").textContent = String(kpis.waiting_now);
    $("kpi-longest_wait_s").textContent = minutesText(kpis.longest_wait_s);
    $("kpi-mean_wait_s").textContent = minutesText(kpis.mean_wait_s);
    $("kpi-served").textContent = String(kpis.served);
    $("kpi-sla_pct").textContent = kpis.sla_pct === null ? "—" : kpis.sla_pct + " %";
    $("kpi-satisfaction_pct").textContent = kpis.satisfaction_pct === null ? "—" : kpis.satisfaction_pct + " %";
  }
  function refreshKpis() {
    if (kpiTimer) return;
    kpiTimer = setTimeout(function () {
      kpiTimer = null;
      Luot.api("GET", "/stats/today").then(function (response) { if (response.ok) renderKpis(response.data); });
    }, KPI_REFRESH_MS);
  }
  renderKpis(data.kpis);

  Luot.connect({handlers: {
    snapshot: function (snapshot) {
      counters = {};
      snapshot.counters.forEach(function (counter) { counters[counter.counter] = counter; });
      calls = snapshot.recent_calls;
      alerts = snapshot.alerts || [];
      renderServices(snapshot.services); renderCounters(); renderCalls(); renderAlerts();
    },
    queue_changed: function (payload) { refreshKpis(); renderServices(payload.services); },
    counter_changed: function (counter) {
      var known = counters[counter.counter] || {};
      Object.keys(counter).forEach(function (key) { known[key] = counter[key]; });
      counters[counter.counter] = known;
      changedCounters[counter.counter] = true;
      renderCounters();
    },
    ticket_called: function (call) { calls = [call].concat(calls).slice(0, 8); renderCalls(); },
    alert: function (alert) {
      alerts = [alert].concat(alerts.filter(function (a) { return !alert.key || a.key !== alert.key; })).slice(0, 20);
      renderAlerts();
    },
    alert_resolved: function (resolved) {
      alerts = alerts.filter(function (a) { return a.key !== resolved.key; });
      renderAlerts();
    }
  }});
})();
