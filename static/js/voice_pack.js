/* Lượt — the voice pack page: record each segment with the microphone (MediaRecorder, decoded with
   WebAudio, silence trimmed, encoded as a 16-bit mono WAV here) or upload a WAV, then PUT it. */
"use strict";
(function () {
  var texts = JSON.parse(document.getElementById("voice-pack-texts").textContent);
  var message = document.getElementById("voice-pack-message");
  var audioContext = null;

  function context() {
    audioContext = audioContext || new (window.AudioContext || window.webkitAudioContext)();
    return audioContext;
  }

  function say(text, ok) {
    if (!message) return;
    message.hidden = false;
    message.textContent = text;
    message.className = ok ? "notice-ok" : "message error";
  }

  function send(method, path, body, type) {
    return fetch("/api/v1" + path, {
      method: method, body: body, credentials: "same-origin",
      headers: {"Content-Type": type, "Accept": "application/json", "X-CSRF-Token": Luot.csrf()}
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {ok: response.ok, status: response.status, data: data};
      });
    });
  }

  /* Samples (mono) with leading and trailing silence cut: frames of 10 ms under 8 % of the loudest. */
  function trimSilence(samples, rate) {
    var frame = Math.max(1, Math.round(rate / 100)), levels = [], peak = 0, i, j;
    for (i = 0; i < samples.length; i += frame) {
      var sum = 0, end = Math.min(samples.length, i + frame);
      for (j = i; j < end; j++) sum += samples[j] * samples[j];
      var level = Math.sqrt(sum / (end - i));
      levels.push(level);
      if (level > peak) peak = level;
    }
    var first = 0, last = levels.length - 1;
    while (first < last && levels[first] < peak * 0.08) first++;
    while (last > first && levels[last] < peak * 0.08) last--;
    var margin = Math.round(rate * 0.03);
    return samples.subarray(Math.max(0, first * frame - margin), Math.min(samples.length, (last + 1) * frame + margin));
  }

  function encodeWav(samples, rate) {
    var buffer = new ArrayBuffer(44 + samples.length * 2), view = new DataView(buffer);
    function text(offset, value) { for (var k = 0; k < value.length; k++) view.setUint8(offset + k, value.charCodeAt(k)); }
    text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
    text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, rate, true); view.setUint32(28, rate * 2, true); view.setUint16(32, 2, true);
    view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, samples.length * 2, true);
    for (var i = 0; i < samples.length; i++) {
      var s = Math.max(-1, Math.min(1, samples[i]));
      view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
    return new Blob([buffer], {type: "audio/wav"});
  }

  function drawWaveform(canvas, samples) {
    var g = canvas.getContext("2d"), width = canvas.width, height = canvas.height;
    g.clearRect(0, 0, width, height);
    g.fillStyle = "#1f5f8b";
    var step = Math.max(1, Math.floor(samples.length / width));
    for (var x = 0; x < width; x++) {
      var peak = 0;
      for (var i = x * step; i < Math.min(samples.length, (x + 1) * step); i++) peak = Math.max(peak, Math.abs(samples[i]));
      var bar = Math.max(1, peak * height);
      g.fillRect(x, (height - bar) / 2, 1, bar);
    }
    canvas.setAttribute("data-drawn", "yes");
  }

  function decode(arrayBuffer) {
    return new Promise(function (resolve, reject) {
      context().decodeAudioData(arrayBuffer, resolve, reject);
    });
  }

  function mono(audioBuffer) {
    var out = new Float32Array(audioBuffer.length);
    for (var c = 0; c < audioBuffer.numberOfChannels; c++) {
      var data = audioBuffer.getChannelData(c);
      for (var i = 0; i < out.length; i++) out[i] += data[i] / audioBuffer.numberOfChannels;
    }
    return out;
  }

  function showClip(row) {
    var key = row.getAttribute("data-key");
    return fetch("/api/v1/admin/voice-pack/" + key, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) return null;
      return response.arrayBuffer().then(decode).then(function (audioBuffer) {
        drawWaveform(row.querySelector("canvas.waveform"), mono(audioBuffer));
        return audioBuffer;
      });
    });
  }

  function play(url) {
    var audio = new Audio(url + (url.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now());
    audio.play().catch(function () {});
    return audio;
  }

  function refreshStatus() {
    return Luot.api("GET", "/admin/voice-pack").then(function (answer) {
      if (!answer.ok) return;
      var done = answer.data.segments.filter(function (s) { return s.recorded; }).length;
      document.getElementById("voice-pack-count").textContent = done + "/" + answer.data.segments.length;
      document.getElementById("voice-pack-state").textContent = answer.data.enabled ? texts.enabled : texts.disabled;
      document.getElementById("voice-pack-status").setAttribute("data-enabled", answer.data.enabled ? "yes" : "no");
    });
  }

  function upload(row, blob) {
    var key = row.getAttribute("data-key");
    return send("PUT", "/admin/voice-pack/" + key, blob, "audio/wav").then(function (answer) {
      if (!answer.ok) { say(answer.data.error || ("HTTP " + answer.status), false); return; }
      row.setAttribute("data-recorded", "yes");
      row.querySelector(".segment-recorded").textContent = "✓ " + answer.data.duration_s.toFixed(1) + " s";
      row.querySelector(".play").disabled = false;
      row.querySelector(".sample").disabled = false;
      say(texts.recorded + ": " + row.querySelector(".segment-text").textContent, true);
      showClip(row);
      refreshStatus();
    });
  }

  function record(row) {
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      say(texts.no_microphone + " (" + (navigator.mediaDevices ? "MediaRecorder" : "mediaDevices") + ")", false);
      return;
    }
    navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
      var recorder = new MediaRecorder(stream), chunks = [];
      var recordButton = row.querySelector(".record"), stopButton = row.querySelector(".stop");
      recorder.ondataavailable = function (event) { if (event.data.size) chunks.push(event.data); };
      recorder.onstop = function () {
        stream.getTracks().forEach(function (track) { track.stop(); });
        recordButton.hidden = false; stopButton.hidden = true;
        new Blob(chunks).arrayBuffer().then(decode).then(function (audioBuffer) {
          var samples = trimSilence(mono(audioBuffer), audioBuffer.sampleRate);
          drawWaveform(row.querySelector("canvas.waveform"), samples);
          return upload(row, encodeWav(samples, audioBuffer.sampleRate));
        }).catch(function (error) { say(String(error), false); });
      };
      recordButton.hidden = true; stopButton.hidden = false;
      stopButton.onclick = function () { recorder.stop(); };
      say(texts.recording, true);
      recorder.start();
      setTimeout(function () { if (recorder.state === "recording") recorder.stop(); }, 9500);
    }, function (error) { say(texts.no_microphone + " (" + (error && error.name || error) + ")", false); });
  }

  document.querySelectorAll("#voice-pack-table tbody tr").forEach(function (row) {
    if (row.getAttribute("data-recorded") === "yes") showClip(row);
    var key = row.getAttribute("data-key");
    var recordButton = row.querySelector(".record");
    if (!recordButton) return;
    recordButton.addEventListener("click", function () { record(row); });
    row.querySelector(".play").addEventListener("click", function () { play("/api/v1/admin/voice-pack/" + key); });
    row.querySelector(".sample").addEventListener("click", function () {
      play("/api/v1/admin/voice-pack/" + key + "/sample");
    });
    row.querySelector(".upload input").addEventListener("change", function (event) {
      var file = event.target.files[0];
      if (file) upload(row, file);
      event.target.value = "";
    });
  });

  function switchVoice(voice) {
    Luot.api("PATCH", "/admin/settings", {voice: voice}).then(function (answer) {
      if (!answer.ok) say(answer.data.error || ("HTTP " + answer.status), false);
      else say(voice === "pack" ? texts.enabled : texts.disabled, true);
      refreshStatus();
    });
  }
  var enable = document.getElementById("voice-pack-enable");
  if (enable) enable.addEventListener("click", function () { switchVoice("pack"); });
  var disable = document.getElementById("voice-pack-disable");
  if (disable) disable.addEventListener("click", function () { switchVoice("vi"); });
  var importer = document.getElementById("voice-pack-import");
  if (importer) importer.addEventListener("change", function (event) {
    var file = event.target.files[0];
    if (!file) return;
    send("POST", "/admin/voice-pack/import", file, "application/zip").then(function (answer) {
      if (!answer.ok) { say(answer.data.error || ("HTTP " + answer.status), false); return; }
      say(texts.imported + answer.data.imported.length, true);
      setTimeout(function () { window.location.reload(); }, 800);
    });
  });
})();
