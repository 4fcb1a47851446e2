/* Counter panel, dossiers (issue 16): the dossier at finish with its due-date preview, the fee's VietQR and
   payment, the current ticket's dossier to hand over, and the results to mark ready or returned.
   counter.js calls LuotCounterDossier.open / finishBody / finished / current at the matching moments. */
"use strict";
(function () {
  var lang = Luot.pageData().lang;
  var T = {
    vi: {due: "Hẹn trả kết quả: ", working_days: " ngày làm việc", same_day: "trong ngày", unknown: "Thủ tục chưa có thời hạn: hãy nhập ngày hẹn trả",
         reason_needed: "Đổi ngày hẹn trả cần ghi lý do", processing: "Đang giải quyết", ready: "Đã có kết quả",
         returned: "Đã trả", mark_ready: "Có kết quả", mark_returned: "Đã trả", paid: "Đã nộp phí", overdue: "Quá hạn",
         account: "Tài khoản: ", by: " · hẹn trả "},
    en: {due: "Result due: ", working_days: " working days", same_day: "same day", unknown: "No time limit known: enter the due date",
         reason_needed: "A changed due date needs a reason", processing: "Being processed", ready: "Ready",
         returned: "Returned", mark_ready: "Ready", mark_returned: "Returned", paid: "Fee paid", overdue: "Overdue",
         account: "Account: ", by: " · due "}
  }[lang];
  var $ = function (id) { return document.getElementById(id); };
  var preview = null, openedFor = null, feeCode = null;

  function dayText(iso) { return iso ? iso.split("-").reverse().join("/") : ""; }
  function money(amount) { return String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " đ"; }
  function message(text) { $("dossier-message").textContent = text || ""; $("dossier-message").hidden = !text; }

  function checkedProcedure() {
    var box = document.querySelector(".procedure-option input:checked");
    return box ? box.value : null;
  }

  function loadPreview() {
    var code = checkedProcedure();
    preview = null;
    $("dossier-due-preview").textContent = "";
    if (!code) return;
    Luot.api("GET", "/procedures/" + encodeURIComponent(code) + "/due-date").then(function (response) {
      if (!response.ok || checkedProcedure() !== code) return;
      preview = response.data;
      var limit = preview.same_day || preview.legal_days === 0 ? T.same_day :
        (preview.legal_days !== null ? preview.legal_days + T.working_days : "");
      $("dossier-due-preview").textContent = preview.due_date ? T.due + dayText(preview.due_date) + (limit ? " (" + limit + ")" : "")
                                                                : T.unknown;
      if ($("dossier-fee").value === "" && preview.fee !== null) $("dossier-fee").value = preview.fee;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest(".procedure-option")) loadPreview();
  });

  function open(ticket) {
    if (!ticket || ticket.id !== openedFor) {  // a refused finish keeps what the clerk typed for this ticket
      ["dossier-code", "dossier-due", "dossier-due-reason", "dossier-fee", "dossier-phone"].forEach(function (id) { $(id).value = ""; });
      openedFor = ticket ? ticket.id : null;
    }
    setTimeout(loadPreview, 0);
  }

  function finishBody() {
    var code = $("dossier-code").value.trim();
    if (!code) return {};
    var dossier = {code: code}, due = $("dossier-due").value, reason = $("dossier-due-reason").value.trim();
    if (due && (!preview || due !== preview.due_date)) {
      if (!reason && preview && preview.due_date) return {error: T.reason_needed};
      dossier.due_date = due;
      if (reason) dossier.due_reason = reason;
    }
    if ($("dossier-fee").value !== "") dossier.fee = parseInt($("dossier-fee").value, 10);
    if ($("dossier-phone").value.trim()) dossier.phone = $("dossier-phone").value.trim();
    var procedure = checkedProcedure();
    if (procedure) dossier.procedure = procedure;
    return {dossier: dossier};
  }

  function showFee(dossier) {
    feeCode = dossier.code;
    $("dossier-fee-code").textContent = dossier.code;
    $("dossier-fee-amount").textContent = money(dossier.fee) + (dossier.paid ? " · " + T.paid : "");
    $("dossier-receipt").href = "/d/" + dossier.key + "/receipt.png";
    $("dossier-fee-box").hidden = false;
    Luot.api("GET", "/dossiers/" + encodeURIComponent(dossier.code) + "/payment-qr").then(function (response) {
      $("dossier-fee-qr").hidden = !response.ok;
      $("dossier-fee-account").textContent = response.ok
        ? T.account + response.data.bank_bin + " · " + response.data.account + " · " + response.data.account_name
        : response.data.error;
      if (response.ok) $("dossier-fee-qr").src = "/api/v1/dossiers/" + encodeURIComponent(dossier.code) + "/payment-qr?format=svg";
    });
  }

  function finished(ticket) {
    openedFor = null;
    var dossier = ticket && ticket.dossier;
    if (dossier && dossier.fee && !dossier.paid) showFee(dossier);
    else $("dossier-fee-box").hidden = true;
    loadList();
  }

  function pay(method) {
    if (!feeCode) return;
    Luot.api("POST", "/dossiers/" + encodeURIComponent(feeCode) + "/paid", {method: method}).then(function (response) {
      if (!response.ok) { message(response.data.error); return; }
      $("dossier-fee-amount").textContent = money(response.data.fee) + " · " + T.paid;
    });
  }
  $("dossier-paid-cash").addEventListener("click", function () { pay("cash"); });
  $("dossier-paid-transfer").addEventListener("click", function () { pay("transfer"); });

  function mark(code, action) {
    return Luot.api("POST", "/dossiers/" + encodeURIComponent(code) + "/" + action, {}).then(function (response) {
      message(response.ok ? "" : response.data.error);
      loadList();
      return response;
    });
  }

  var currentCode = null;
  function current(ticket) {
    var dossier = ticket && ticket.dossier;
    // at the call, only a result-return ticket carries a dossier (a reception's is made when it finishes)
    var show = !!dossier;
    $("dossier-current").hidden = !show;
    if (!show) { currentCode = null; return; }
    currentCode = dossier.code;
    $("dossier-current-text").textContent = dossier.code + " · " + (T[dossier.status] || dossier.status) + T.by + dayText(dossier.due_date);
    $("dossier-return").disabled = dossier.status === "returned";
  }
  $("dossier-return").addEventListener("click", function () {
    if (currentCode) mark(currentCode, "returned").then(function (response) {
      if (response.ok) { $("dossier-return").disabled = true; $("dossier-current-text").textContent = response.data.code + " · " + T.returned; }
    });
  });

  function row(dossier) {
    var action = dossier.status === "ready" ? "returned" : "ready";
    return Luot.el("tr", {className: dossier.overdue ? "overdue" : ""}, [
      Luot.el("td", {text: dossier.code}),
      Luot.el("td", {text: dayText(dossier.due_date) + (dossier.overdue ? " · " + T.overdue : "")}),
      Luot.el("td", {}, [Luot.el("button", {type: "button", className: "dossier-" + action,
        text: action === "ready" ? T.mark_ready : T.mark_returned, onclick: function () { mark(dossier.code, action); }})])
    ]);
  }

  function loadList() {
    Luot.api("GET", "/dossiers").then(function (response) {
      if (!response.ok) return;
      var body = Luot.clear($("dossier-list"));
      response.data.ready.concat(response.data.processing).forEach(function (dossier) { body.appendChild(row(dossier)); });
    });
  }
  loadList();

  window.LuotCounterDossier = {open: open, finishBody: finishBody, finished: finished, current: current};
})();
