/* Monitor panel (issue 15): today's bookings per slot and service, today's tickets by channel. */
"use strict";
(function () {
  var section = document.getElementById("monitor-appointments-section");
  if (!section) return;
  var T = JSON.parse(section.getAttribute("data-texts")), lang = Luot.pageData().lang || "vi";
  var REFRESH_MS = 60000;

  function hhmm(iso) { var m = /T(\d{2}):(\d{2})/.exec(iso); return m ? m[1] + ":" + m[2] : iso; }

  function refresh() {
    Luot.api("GET", "/appointments").then(function (answer) {
      if (!answer.ok) return null;
      var body = Luot.clear(document.getElementById("monitor-appointments"));
      answer.data.slots.forEach(function (slot) {
        Object.keys(slot.services).forEach(function (code) {
          var counts = slot.services[code];
          body.appendChild(Luot.el("tr", {"data-slot": slot.start, "data-service": code}, [
            Luot.el("td", {text: hhmm(slot.start)}), Luot.el("td", {text: code}),
            Luot.el("td", {className: "num", text: String(counts.booked + counts.checked_in + counts.missed)}),
            Luot.el("td", {className: "num", text: String(counts.checked_in)}),
            Luot.el("td", {className: "num", text: String(counts.missed)})]));
        });
      });
      if (!body.firstChild) body.appendChild(Luot.el("tr", {}, [Luot.el("td", {colspan: "5", text: T.none})]));
      return Luot.api("GET", "/stats/channels?from=" + answer.data.date + "&to=" + answer.data.date);
    }).then(function (answer) {
      if (!answer) return;
      if (!answer.ok) return;
      var parts = answer.data.rows.map(function (row) {
        return (lang === "en" ? row.label_en : row.label) + ": " + row.issued;
      });
      var punctual = answer.data.appointments.punctual_pct;
      if (punctual !== null) parts.push(T.punctual.replace("{pct}", punctual).replace("{n}", answer.data.appointments.within_minutes));
      document.getElementById("monitor-channels").textContent = parts.join(" · ");
    });
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
