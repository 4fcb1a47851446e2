/* Lượt — helpers shared by every screen. Text is always set with textContent, never as HTML. */
"use strict";
window.Luot = (function () {
  function pageData() {
    var node = document.getElementById("page-data");
    return node ? JSON.parse(node.textContent) : {};
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function api(method, path, body, token) {
    var headers = {"Accept": "application/json", "X-CSRF-Token": csrf()};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers["Authorization"] = "Bearer " + token;
    return fetch("/api/v1" + path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {ok: response.ok, status: response.status, data: data};
      });
    }, function () {
      return {ok: false, status: 0, data: {error: "Không kết nối được máy chủ (server unreachable)", code: "network"}};
    });
  }

  /* Connect to the server's Socket.IO; screens get a snapshot on every (re)connect. */
  function connect(options) {
    var socket = io({auth: options.token ? {token: options.token} : {}, transports: ["websocket", "polling"],
                     reconnectionDelayMax: 3000});
    var badge = document.getElementById("connection-badge");
    socket.on("connect", function () { if (badge) badge.hidden = true; });
    socket.on("disconnect", function () { if (badge) badge.hidden = false; });
    socket.on("connect_error", function () { if (badge) badge.hidden = false; });
    Object.keys(options.handlers || {}).forEach(function (name) { socket.on(name, options.handlers[name]); });
    return socket;
  }

  /* Whole minutes, or null when there is no forecast (no open counter serves the service): a screen must
     then say so, never show 0. */
  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return null;
    return Math.max(0, Math.round(seconds / 60));
  }

  /* `estimated_wait_range_s` as [low, high] minutes on a 5-minute grid, low down and high up, never
     narrower than 5 and never "0–5": the same rule as printers/slip.py wait_range_minutes. */
  var WAIT_STEP_MIN = 5, WAIT_FIRST_HIGH_MIN = 10;
  function waitRange(rangeS) {
    if (!rangeS) return null;
    var low = Math.floor(Math.max(0, rangeS[0]) / 60 / WAIT_STEP_MIN) * WAIT_STEP_MIN;
    var high = Math.ceil(Math.max(0, rangeS[1]) / 60 / WAIT_STEP_MIN) * WAIT_STEP_MIN;
    return [low, Math.max(high, low + WAIT_STEP_MIN, WAIT_FIRST_HIGH_MIN)];
  }

  /* A table cell for a service's wait in minutes; "—" titled `noCounterText` when there is no forecast. */
  function waitCell(seconds, noCounterText) {
    var value = minutes(seconds);
    return el("td", {className: "num" + (value === null ? " no-forecast" : ""),
                     text: value === null ? "—" : String(value), title: value === null ? noCounterText : null});
  }

  var centreZone;

  // A time as the centre's clock shows it: in the page's `tz` (the centre's zone) when the page
  // gives one, else as written (the server writes times with the centre's own UTC offset).
  function localTime(iso, lang) {
    if (!iso) return "";
    if (centreZone === undefined) centreZone = pageData().tz || null;
    if (centreZone) {
      return new Date(iso).toLocaleTimeString(lang === "en" ? "en-GB" : "vi-VN",
        {hour: "2-digit", minute: "2-digit", timeZone: centreZone});
    }
    var match = /T(\d{2}):(\d{2})/.exec(iso);
    return match ? match[1] + ":" + match[2] : "";
  }

  return {pageData: pageData, el: el, clear: clear, api: api, connect: connect, minutes: minutes,
          waitRange: waitRange, waitCell: waitCell, localTime: localTime, csrf: csrf};
})();
