/* Monitor panel, results (issue 16): due today, overdue, ready and not collected; reloaded when a dossier changes. */
"use strict";
(function () {
  var lang = Luot.pageData().lang;
  var STATE = {vi: {due_today: "Đến hạn hôm nay", overdue: "Quá hạn", ready: "Có kết quả, chưa nhận"},
               en: {due_today: "Due today", overdue: "Overdue", ready: "Ready, not collected"}}[lang];
  var $ = function (id) { return document.getElementById(id); };

  function dayText(iso) { return iso ? iso.split("-").reverse().join("/") : ""; }

  function load() {
    Luot.api("GET", "/dossiers").then(function (response) {
      if (!response.ok) return;
      var lists = response.data, body = Luot.clear($("dossiers-rows"));
      ["overdue", "due_today", "ready"].forEach(function (name) {
        $("dossiers-" + name.replace("_", "-")).textContent = String(lists[name].length);
        lists[name].forEach(function (dossier) {
          body.appendChild(Luot.el("tr", {className: "dossier-" + name}, [
            Luot.el("td", {text: dossier.code}),
            Luot.el("td", {text: lang === "en" ? (dossier.procedure_name_en || dossier.procedure_name) : dossier.procedure_name}),
            Luot.el("td", {text: dayText(dossier.due_date)}),
            Luot.el("td", {text: STATE[name]})
          ]));
        });
      });
    });
  }

  Luot.connect({handlers: {connect: load, dossiers_changed: load}});
})();
