/* History page: charts drawn with the vendored Chart.js, a weekday × hour heatmap, sortable tables. */
"use strict";
(function () {
  var data = Luot.pageData(), charts = data.charts;
  var WEEKDAYS = ["T2", "T3", "T4", "T5", "T6", "T7", "CN"];
  var RED = "#b3121b", BLUE = "#0b5ed7", GREY = "#8a99a8";

  function minutes(seconds) { return seconds === null || seconds === undefined ? null : Math.round(seconds / 6) / 10; }

  function bar(id, labels, datasets, options) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    new Chart(canvas, {type: "bar", data: {labels: labels, datasets: datasets},
      options: Object.assign({animation: false, responsive: true, maintainAspectRatio: false,
                              plugins: {legend: {position: "bottom"}}}, options || {})});
  }

  var hours = charts.hourly.filter(function (row) { return row.issued || row.served; });
  bar("chart-hourly", hours.map(function (r) { return r.label; }), [
    {label: "Lấy số", data: hours.map(function (r) { return r.issued; }), backgroundColor: BLUE},
    {label: "Đã phục vụ", data: hours.map(function (r) { return r.served; }), backgroundColor: RED}]);
  bar("chart-histogram", charts.histogram.map(function (r) { return (r.from_s / 60) + "–" + (r.to_s / 60); }), [
    {label: "Số phiếu", data: charts.histogram.map(function (r) { return r.count; }), backgroundColor: BLUE}]);
  /* Procedures by name (a code like "TP-01" means nothing to a reader), as horizontal bars so that long names
     fit; the chart grows with the number of procedures instead of squeezing them. */
  function shortName(text) { return text && text.length > 48 ? text.slice(0, 47) + "…" : (text || ""); }
  var procedureBox = document.getElementById("chart-procedures-box");
  if (procedureBox) procedureBox.style.height = Math.max(220, 60 + 30 * charts.procedures.length) + "px";
  bar("chart-procedures", charts.procedures.map(function (r) { return shortName(r.label || r.key); }), [
    {label: "Trung vị", data: charts.procedures.map(function (r) { return minutes(r.service_s.median); }), backgroundColor: RED},
    {label: "TB", data: charts.procedures.map(function (r) { return minutes(r.service_s.mean); }), backgroundColor: GREY},
    {label: "P90", data: charts.procedures.map(function (r) { return minutes(r.service_s.p90); }), backgroundColor: BLUE}],
    {indexAxis: "y", plugins: {legend: {position: "bottom"}, tooltip: {callbacks: {
      title: function (items) { var row = charts.procedures[items[0].dataIndex]; return row.label + " (" + row.key + ")"; }}}}});

  /* Mid-strength reds leave neither dark nor white text 4.5:1 (WCAG 1.4.3): the scale skips from 0.45 to 0.85. */
  function heatStrength(share) { return share <= 0.5 ? share * 0.9 : 0.85 + (share - 0.5) * 0.3; }

  /* White or dark text, whichever contrasts more with the cell's red at this strength (over white paper). */
  function readableInk(strength) {
    function channel(c) { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }
    var rgb = [179, 18, 27].map(function (c) { return 255 + (c - 255) * strength; });
    var light = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
    var dark = 0.2126 * channel(11) + 0.7152 * channel(26) + 0.0722 * channel(43);  // --ink #0b1a2b
    return (1.05) / (light + 0.05) > (light + 0.05) / (dark + 0.05) ? "#fff" : "#0b1a2b";
  }

  /* Heatmap as a table; colours set through the CSSOM, which the strict CSP allows. */
  var heat = document.getElementById("heatmap");
  var max = Math.max.apply(null, charts.heatmap.map(function (c) { return c.issued || 0; }).concat([1]));
  var usedHours = [];
  charts.heatmap.forEach(function (c) { if (c.issued && usedHours.indexOf(c.hour) < 0) usedHours.push(c.hour); });
  usedHours.sort(function (a, b) { return a - b; });
  var table = Luot.el("table", {className: "heat"});
  var head = Luot.el("tr", {}, [Luot.el("th", {text: ""})]);
  usedHours.forEach(function (h) { head.appendChild(Luot.el("th", {text: String(h).padStart(2, "0")})); });
  table.appendChild(head);
  WEEKDAYS.forEach(function (name, index) {
    var row = Luot.el("tr", {}, [Luot.el("th", {text: name})]);
    usedHours.forEach(function (h) {
      var cell = charts.heatmap.filter(function (c) { return c.weekday === index + 1 && c.hour === h; })[0];
      var value = cell ? cell.issued || 0 : 0;
      var td = Luot.el("td", {text: value ? String(value) : "", title: name + " " + h + ":00 — " + value});
      var strength = heatStrength(value / max);
      td.style.backgroundColor = "rgba(179, 18, 27, " + strength.toFixed(3) + ")";
      td.style.color = readableInk(strength);
      row.appendChild(td);
    });
    table.appendChild(row);
  });
  heat.appendChild(table);

  /* The numbers of every chart as tables. */
  function numbersTable(title, headers, rows) {
    return Luot.el("div", {}, [Luot.el("h3", {text: title}), Luot.el("table", {className: "data"}, [
      Luot.el("tr", {}, headers.map(function (h) { return Luot.el("th", {text: h}); }))
    ].concat(rows.map(function (r) { return Luot.el("tr", {}, r.map(function (v) { return Luot.el("td", {text: v === null ? "—" : String(v)}); })); })))]);
  }
  var box = document.getElementById("chart-tables");
  box.appendChild(numbersTable("Theo giờ", ["Giờ", "Lấy số", "Đã phục vụ"], hours.map(function (r) { return [r.label, r.issued, r.served]; })));
  box.appendChild(numbersTable("Thời gian chờ", ["Phút", "Số phiếu"], charts.histogram.map(function (r) { return [(r.from_s / 60) + "–" + (r.to_s / 60), r.count]; })));
  box.appendChild(numbersTable("Theo thủ tục (phút)", ["Thủ tục", "Tên", "Phục vụ", "Trung vị", "TB", "P90"],
    charts.procedures.map(function (r) { return [r.key, r.label, r.served, minutes(r.service_s.median), minutes(r.service_s.mean), minutes(r.service_s.p90)]; })));

  /* Click a header to sort; numbers sort as numbers. */
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (sortable) {
    Array.prototype.forEach.call(sortable.querySelectorAll("th"), function (th, column) {
      th.classList.add("sort-header");
      th.addEventListener("click", function () {
        var body = sortable.tBodies[0], ascending = th.getAttribute("data-sort") !== "asc";
        Array.prototype.forEach.call(sortable.querySelectorAll("th"), function (other) { other.removeAttribute("data-sort"); });
        th.setAttribute("data-sort", ascending ? "asc" : "desc");
        var rows = Array.prototype.slice.call(body.rows);
        function value(row) {
          var cell = row.cells[column];
          var raw = cell.getAttribute("data-value") !== null ? cell.getAttribute("data-value") : cell.textContent;
          var number = parseFloat(raw);
          return isNaN(number) ? raw.toLowerCase() : number;
        }
        rows.sort(function (a, b) {
          var x = value(a), y = value(b);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
