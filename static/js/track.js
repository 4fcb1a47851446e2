/* Phone tracking page: follows one ticket live over Socket.IO; no personal data. */
"use strict";
(function () {
  var data = Luot.pageData(), T = data.texts, lang = data.lang, ticket = data.ticket;
  var STATUS = {
    vi: {waiting: "Đang chờ", called: "Mời đến quầy", serving: "Đang được phục vụ", done: "Đã hoàn thành",
         no_show: "Đã qua lượt (vắng mặt)", expired: "Đã hết hạn (hết ngày làm việc)"},
    en: {waiting: "Waiting", called: "Please go to counter", serving: "Being served", done: "Finished",
         no_show: "Missed (no-show)", expired: "Expired (the day closed)"}
  }[lang];
  var RATINGS = {vi: [[3, "Rất hài lòng"], [2, "Hài lòng"], [1, "Không hài lòng"]],
                 en: [[3, "Very satisfied"], [2, "Satisfied"], [1, "Dissatisfied"]]}[lang];
  var $ = function (id) { return document.getElementById(id); };

  function render(update) {
    Object.keys(update).forEach(function (key) { ticket[key] = update[key]; });
    var status = STATUS[ticket.status] || ticket.status;
    if (ticket.status === "called" && ticket.counter) status += " " + ticket.counter;
    $("track-status").textContent = status;
    $("track-status").className = "track-status status-" + ticket.status;
    $("track-ahead").textContent = String(Math.max(0, (ticket.position || 1) - 1));
    $("track-facts").hidden = ticket.status !== "waiting";
    var rating = Luot.clear($("track-rating"));
    rating.hidden = !(ticket.status === "done" && !ticket.rating);
    if (!rating.hidden) {
      RATINGS.forEach(function (option) {
        rating.appendChild(Luot.el("button", {type: "button", className: "big rate-" + option[0], text: option[1],
          onclick: function () {
            Luot.api("POST", "/tickets/" + encodeURIComponent(ticket.id) + "/rating", {score: option[0]})
              .then(function (response) { if (response.ok) render({rating: option[0]}); });
          }}));
      });
    }
    if (ticket.status === "called" && navigator.vibrate) navigator.vibrate([300, 100, 300]);
  }

  var socket = Luot.connect({handlers: {
    connect: function () { socket.emit("track", ticket.id); },
    ticket_updated: function (update) { if (update.id === ticket.id) render(update); },
    queue_changed: function () { if (ticket.status === "waiting") socket.emit("track", ticket.id); }
  }});
  render({});
})();
