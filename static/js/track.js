/* Phone tracking page: follows one ticket live over Socket.IO; no personal data. */
"use strict";
(function () {
  // The tracking key proves this ticket (the id is public: displays hear it); it reads, follows and rates it.
  var data = Luot.pageData(), T = data.texts, lang = data.lang, ticket = data.ticket, key = data.key;
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
    // position counts the tickets expected to be called before this one: it is the people ahead as it is
    $("track-ahead").textContent = String(ticket.position || 0);
    var range = ticket.estimated_wait_s === null ? null : Luot.waitRange(ticket.estimated_wait_range_s);
    $("track-wait").textContent = range ? T.wait_range.replace("{low}", range[0]).replace("{high}", range[1])
                                        : T.no_counter_open;
    $("track-wait").classList.toggle("no-forecast", !range);
    $("track-facts").hidden = ticket.status !== "waiting";
    var rating = Luot.clear($("track-rating"));
    rating.hidden = !(ticket.status === "done" && !ticket.rating);
    if (!rating.hidden) {
      RATINGS.forEach(function (option) {
        rating.appendChild(Luot.el("button", {type: "button", className: "big rate-" + option[0], text: option[1],
          onclick: function () { rate(option[0]); }}));
      });
    }
    if (ticket.status === "called" && navigator.vibrate) navigator.vibrate([300, 100, 300]);
  }

  function ratingMessage(text) {
    $("track-rating-message").textContent = text || "";
    $("track-rating-message").hidden = !text;
  }

  // A citizen's rating never fails silently: a refusal (or no connection) is said on the page.
  function rate(score) {
    var buttons = $("track-rating").querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (button) { button.disabled = true; });
    Luot.api("POST", "/tickets/" + encodeURIComponent(ticket.id) + "/rating", {score: score, key: key})
      .then(function (response) {
        if (response.ok) { render({rating: score}); ratingMessage(T.rate_thanks); return; }
        ratingMessage(T.rate_failed + " " + ((response.data && response.data.error) || response.status));
        if (response.data && response.data.code === "already_rated") { render({rating: ticket.rating || score}); return; }
        Array.prototype.forEach.call(buttons, function (button) { button.disabled = false; });
      });
  }

  var socket = Luot.connect({handlers: {
    connect: function () { socket.emit("track", key); },
    // The server pushes this ticket's place and wait after every queue change (batched), so the page no
    // longer asks again on each `queue_changed`: with hundreds of phones that was a forecast per phone per change.
    ticket_updated: function (update) { if (update.id === ticket.id) render(update); }
  }});
  render({});
})();
