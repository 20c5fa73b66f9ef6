/* The row table of an EmpathyNet report (cues.html): loads data/cues-NNNN.js one after the
   other, filters and pages the rows, shows a row's media. No dependency; text is always set
   with textContent, never parsed as HTML. */
"use strict";
var EmpathyNet = (function () {
  var S = null, rows = [], shown = [], page = 0, pending = 0, timer = null;
  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function clock(ms) {
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    var pad = function (n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; };
    return pad(h, 2) + ":" + pad(m, 2) + ":" + pad(s % 60, 2) + "." + pad(ms % 1000, 3);
  }
  function media(row, name) {
    if (name.indexOf("/") < 0) {
      var source = S.sources[row[1]];
      name = "media/" + (source ? source.id : "") + "/" + row[0] + "/" + name;
    }
    return "../" + name.split("/").map(encodeURIComponent).join("/");
  }
  function filters() {
    return {
      status: $("filter-status").value, reason: $("filter-reason").value,
      cls: $("filter-class").value, source: $("filter-source").value,
      text: $("filter-text").value.trim().toLowerCase()
    };
  }
  function keep(row, f) {
    if (f.status && S.statuses[row[4]] !== f.status) return false;
    if (f.reason && S.reasons[row[5]] !== f.reason) return false;
    if (f.cls && S.classes[row[6]] !== f.cls) return false;
    if (f.source !== "" && String(row[1]) !== f.source) return false;
    if (f.text && String(row[7]).toLowerCase().indexOf(f.text) < 0) return false;
    return true;
  }
  function refilter(keepPage) {
    var f = filters();
    shown = [];
    for (var i = 0; i < rows.length; i++) if (keep(rows[i], f)) shown.push(rows[i]);
    if (!keepPage) page = 0;
    render();
  }
  function render() {
    var size = S.page_rows, pages = Math.max(1, Math.ceil(shown.length / size));
    if (page >= pages) page = pages - 1;
    var body = $("cue-table").tBodies[0];
    var fresh = document.createElement("tbody");
    var first = page * size, last = Math.min(shown.length, first + size);
    for (var i = first; i < last; i++) {
      var row = shown[i], tr = document.createElement("tr");
      tr.className = S.statuses[row[4]];
      tr.setAttribute("data-cue-id", row[0]);
      var source = S.sources[row[1]];
      tr.appendChild(el("td", row[0]));
      tr.appendChild(el("td", source ? source.name : "?"));
      tr.appendChild(el("td", clock(row[2]) + " – " + clock(row[3])));
      tr.appendChild(el("td", S.statuses[row[4]]));
      var reason = el("td", row[5] >= 0 ? S.reasons[row[5]] : "");
      if (row[5] >= 0) reason.title = S.reason_words[S.reasons[row[5]]] || "";
      tr.appendChild(reason);
      tr.appendChild(el("td", row[6] >= 0 ? S.classes[row[6]] : ""));
      tr.appendChild(el("td", row[7]));
      tr.addEventListener("click", detail.bind(null, row, tr));
      fresh.appendChild(tr);
    }
    body.parentNode.replaceChild(fresh, body);
    var what = shown.length === rows.length ? "" : " (filtered from " + rows.length + ")";
    $("page-info").textContent = shown.length
      ? "rows " + (first + 1) + "–" + last + " of " + shown.length + what + ", page " + (page + 1) + " of " + pages
      : "no row matches" + what;
    $("page-prev").disabled = page === 0;
    $("page-next").disabled = page >= pages - 1;
  }
  function detail(row, tr) {
    var box = $("cue-detail"), d = row[8] || {}, source = S.sources[row[1]];
    var before = document.querySelector("#cue-table tr.selected");
    if (before) before.classList.remove("selected");
    if (tr) tr.classList.add("selected");
    box.textContent = "";
    box.hidden = false;
    box.appendChild(el("h2", row[0]));
    var where = el("p", "", "muted");
    if (source && source.page) {
      var a = el("a", source.name); a.href = "sources/" + source.page + "#row-" + row[0];
      where.appendChild(document.createTextNode("from ")); where.appendChild(a);
    }
    where.appendChild(document.createTextNode(" · " + clock(row[2]) + " – " + clock(row[3]) + " · " + S.statuses[row[4]] + (row[5] >= 0 ? " (" + S.reasons[row[5]] + ")" : "")));
    box.appendChild(where);
    box.appendChild(el("blockquote", row[7]));
    if (d.w) box.appendChild(el("p", d.w, "why"));
    if (row[5] >= 0 && S.reason_words[S.reasons[row[5]]]) box.appendChild(el("p", S.reason_words[S.reasons[row[5]]], "muted"));
    if (d.e) box.appendChild(el("p", d.e, "bad"));
    if (d.t) {
      var t = el("div", null, "thumb"), img = el("img");
      img.src = media(row, d.t); img.alt = "middle frame";
      t.appendChild(img);
      (d.x || []).forEach(function (b) {
        var s = el("span", null, b[4] ? "box large" : "box");
        s.style.left = (100 * b[0]) + "%"; s.style.top = (100 * b[1]) + "%";
        s.style.width = (100 * b[2]) + "%"; s.style.height = (100 * b[3]) + "%";
        t.appendChild(s);
      });
      box.appendChild(t);
    }
    if (d.s && d.s.length) {
      var stills = el("div");
      d.s.forEach(function (name, n) {
        var img = el("img"); img.src = media(row, name); img.width = 120; img.alt = "still " + n;
        img.className = "still"; stills.appendChild(img);
      });
      box.appendChild(stills);
    }
    if (d.b) {
      var audio = el("audio"); audio.controls = true; audio.preload = "metadata";
      audio.className = "blurred"; audio.src = media(row, d.b);
      var fig = el("figure"); fig.appendChild(el("figcaption", "blurred audio")); fig.appendChild(audio);
      box.appendChild(fig);
    }
    if (d.v) {
      var video = el("video"); video.controls = true; video.muted = true; video.preload = "metadata";
      video.width = 160; video.height = 160; video.src = media(row, d.v);
      if (d.p) video.poster = media(row, d.p);
      var clip = el("figure"); clip.appendChild(el("figcaption", "face clip (silent)")); clip.appendChild(video);
      box.appendChild(clip);
    }
    box.scrollIntoView({ block: "nearest" });
  }
  function load(index) {
    if (index >= S.chunks.length) return;
    var script = document.createElement("script");
    script.src = S.chunks[index];
    script.onload = function () { load(index + 1); };
    script.onerror = function () {
      $("page-info").textContent = "could not load " + S.chunks[index] + ": the report is incomplete (empathynet report DATASET writes it again)";
    };
    document.body.appendChild(script);
  }
  function chunk(part) {
    for (var i = 0; i < part.rows.length; i++) rows.push(part.rows[i]);
    $("loaded").textContent = String(rows.length);
    refilter(true);
  }
  function start(values) {
    S = values;
    ["filter-status", "filter-reason", "filter-class", "filter-source"].forEach(function (id) {
      $(id).addEventListener("change", function () { refilter(false); });
    });
    $("filter-text").addEventListener("input", function () {
      clearTimeout(timer); timer = setTimeout(function () { refilter(false); }, 150);
    });
    $("page-prev").addEventListener("click", function () { page--; render(); });
    $("page-next").addEventListener("click", function () { page++; render(); });
    if (!S.chunks.length) $("page-info").textContent = "no rows";
    load(0);
  }
  return { start: start, chunk: chunk };
})();
