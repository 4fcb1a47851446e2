/* The monitor's shipping panel: how late the province hub's copy of this centre's log is (issue 18).
   The lag changes in the shipping thread, not through queue events, so the panel reads it every 15 s. */
(function () {
  "use strict";
  var line = document.getElementById("shipping-state");
  if (!line) return;

  function show() {
    Luot.api("GET", "/shipping/status").then(function (answer) {
      if (!answer.ok) return;
      var status = answer.data;
      if (!status.configured) { line.textContent = line.dataset.off; return; }
      var text = line.dataset.ok + ": " + Math.round(status.lag_s) + " s · " + status.pending + " " + line.dataset.pending;
      if (status.last_error) text += " · " + line.dataset.error + ": " + status.last_error;
      line.textContent = text;
      line.classList.toggle("late", status.lag_s > 60);
    });
  }
  show();
  setInterval(show, 15000);
}());
