/* A dossier's page (/d/<key>, the receipt's QR): its state and due date, live over Socket.IO. */
"use strict";
(function () {
  var data = Luot.pageData(), lang = data.lang;
  var STATUS = {
    vi: {processing: "Đang giải quyết", ready: "Đã có kết quả: mời Ông/Bà đến nhận", returned: "Đã trả kết quả"},
    en: {processing: "Being processed", ready: "Your result is ready: please come and collect it",
         returned: "Result handed over"}
  }[lang];
  var $ = function (id) { return document.getElementById(id); };

  function render(dossier) {
    $("dossier-status").textContent = STATUS[dossier.status] || dossier.status;
    $("dossier-status").className = "track-status status-" + dossier.status;
    $("dossier-due").textContent = dossier.due_date;
    if (dossier.status === "ready" && navigator.vibrate) navigator.vibrate([300, 100, 300]);
  }

  var socket = Luot.connect({handlers: {
    connect: function () { socket.emit("track_dossier", data.key); },
    dossier_updated: render
  }});
})();
