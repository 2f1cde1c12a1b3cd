// shopdw dashboard: filters and SVG charts over the inlined marts. No dependencies, no network.
// Money arrives as integer centavos so sums are exact; every drawn datum carries data-key/data-value
// (centavos for money) so tests and curious users can read the figures back from the DOM.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("shopdw-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var DAY = 86400000;
  var SEGMENTS = ["champions", "loyal", "potential_loyalist", "new", "at_risk", "hibernating", "lost"];

  // ---------- formatting (Brazilian convention: R$ 1.234.567,89) ----------
  function group(intStr) {
    return intStr.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }
  function fmtBRL(cents) {
    if (cents === null || cents === undefined || isNaN(cents)) return "–";
    var neg = cents < 0, c = Math.round(Math.abs(cents));
    var whole = Math.floor(c / 100), frac = c % 100;
    return (neg ? "-" : "") + "R$ " + group(String(whole)) + "," + (frac < 10 ? "0" : "") + frac;
  }
  function fmtBRLShort(cents) {
    var v = Math.abs(cents) / 100, s = cents < 0 ? "-" : "";
    function one(x) { return x.toFixed(1).replace(/\.0$/, "").replace(".", ","); }
    if (v >= 1e6) return s + "R$ " + one(v / 1e6) + " mi";
    if (v >= 1e3) return s + "R$ " + one(v / 1e3) + " mil";
    return s + "R$ " + v.toFixed(0);
  }
  function fmtInt(n) {
    return (n < 0 ? "-" : "") + group(String(Math.round(Math.abs(n))));
  }
  function fmtPct(r) {
    return r === null || isNaN(r) ? "–" : (r * 100).toFixed(1).replace(".", ",") + "%";
  }
  function fmtNum(x, digits) {
    return x === null || x === undefined ? "–" : x.toFixed(digits).replace(".", ",");
  }
  var FMT = { money: fmtBRL, count: fmtInt, ratio: fmtPct };
  var SHORT = { money: fmtBRLShort, count: fmtInt, ratio: fmtPct };

  // ---------- dates (UTC day numbers) ----------
  function parseISO(s) {
    var p = s.split("-");
    return Date.UTC(+p[0], +p[1] - 1, +p[2]) / DAY;
  }
  function iso(dayNum) {
    return new Date(dayNum * DAY).toISOString().slice(0, 10);
  }
  var D0 = D.daily.d0 ? parseISO(D.daily.d0) : null;
  var DMAX = D.meta.data_to ? parseISO(D.meta.data_to) : null;
  function periodStart(dayNum, grain) {
    if (grain === "week") {
      var dow = (new Date(dayNum * DAY).getUTCDay() + 6) % 7; // Monday = 0
      return dayNum - dow;
    }
    if (grain === "month") {
      var d = new Date(dayNum * DAY);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / DAY;
    }
    return dayNum;
  }
  function nextPeriod(start, grain) {
    if (grain === "week") return start + 7;
    if (grain === "month") {
      var d = new Date(start * DAY);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / DAY;
    }
    return start + 1;
  }

  // ---------- DOM helpers ----------
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function tip(node, text) {
    node.appendChild(svg("title", {}, text));
    return node;
  }
  function chartBox(name) {
    var box = document.querySelector('[data-chart="' + name + '"]');
    box.textContent = "";
    return box;
  }
  // The figure's caption names the chart for screen readers.
  function label(box) {
    var cap = box.parentNode.querySelector("figcaption");
    return cap ? cap.textContent : "";
  }
  function empty(box, msg) {
    box.appendChild(el("p", { class: "empty", "data-empty": "1" }, msg || "No data for the selected filters."));
  }
  function width(box) {
    return Math.max(260, Math.round(box.clientWidth || 600));
  }
  // Axis top: four equal steps of 1, 2, 2.5 or 5 times a power of ten (whole steps for counts).
  function niceMax(v, unit) {
    if (!(v > 0)) return unit === "ratio" ? 1 : 4;
    var raw = v / 4, p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
    var steps = unit === "count" ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10];
    var step = steps.filter(function (s) { return s >= m; })[0] * p;
    if (unit === "count") step = Math.max(1, Math.ceil(step));
    return step * 4;
  }

  // ---------- charts ----------
  // Line chart of points [{key, label, value}]; unit: money (centavos) | count | ratio.
  function lineChart(name, points, unit) {
    var box = chartBox(name);
    if (!points.length) return empty(box);
    var W = width(box), H = Math.round(Math.min(260, Math.max(170, W * 0.38)));
    var L = unit === "money" ? 70 : 48, R = 12, T = 10, B = 26;
    var max = niceMax(Math.max.apply(null, points.map(function (p) { return p.value || 0; })), unit);
    var n = points.length, pw = W - L - R, ph = H - T - B;
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, "data-chart": name, "data-unit": unit, role: "img", "aria-label": label(box) });
    var g = svg("g", { class: "grid" });
    for (var i = 0; i <= 4; i++) {
      var y = T + ph - (ph * i) / 4;
      g.appendChild(svg("line", { x1: L, x2: W - R, y1: y, y2: y }));
      g.appendChild(svg("text", { x: L - 6, y: y + 4, "text-anchor": "end" }, SHORT[unit]((max * i) / 4)));
    }
    s.appendChild(g);
    function X(i) { return n === 1 ? L + pw / 2 : L + (pw * i) / (n - 1); }
    function Y(v) { return T + ph - (ph * (v || 0)) / max; }
    var d = points.map(function (p, i) { return (i ? "L" : "M") + X(i).toFixed(1) + "," + Y(p.value).toFixed(1); }).join("");
    s.appendChild(svg("path", { class: "area", d: d + "L" + X(n - 1).toFixed(1) + "," + (T + ph) + "L" + X(0).toFixed(1) + "," + (T + ph) + "Z" }));
    s.appendChild(svg("path", { class: "line", d: d }));
    var r = n > 120 ? 1.2 : n > 40 ? 2 : 3;
    points.forEach(function (p, i) {
      s.appendChild(tip(svg("circle", { class: "pt", cx: X(i).toFixed(1), cy: Y(p.value).toFixed(1), r: r,
        "data-key": p.key, "data-value": p.value === null ? "" : p.value }), p.label + ": " + FMT[unit](p.value)));
    });
    // x labels: evenly spaced indices, the last one always shown, none much closer than a step
    var ticks = Math.max(2, Math.min(n, Math.floor(pw / 80)));
    var step = Math.max(1, Math.ceil((n - 1) / (ticks - 1))), idxs = [];
    for (var t = 0; t < n; t += step) idxs.push(t);
    if (idxs[idxs.length - 1] !== n - 1) {
      if (n - 1 - idxs[idxs.length - 1] < step * 0.8 && idxs.length > 1) idxs.pop();
      idxs.push(n - 1);
    }
    idxs.forEach(function (idx, k) {
      var anchor = n === 1 ? "middle" : k === 0 ? "start" : k === idxs.length - 1 ? "end" : "middle";
      s.appendChild(svg("text", { x: X(idx), y: H - 6, "text-anchor": anchor }, points[idx].label));
    });
    box.appendChild(s);
  }

  // Horizontal bars [{key, label, value, parts?:[{cls, value, label}]}].
  function barChart(name, items, unit, legend) {
    var box = chartBox(name);
    if (!items.length) return empty(box);
    var W = width(box), row = 22, T = 4, H = T + items.length * row + 4;
    var labelW = Math.min(Math.round(W * 0.38), 170), valueW = unit === "money" ? 118 : 64;
    var pw = Math.max(40, W - labelW - valueW - 8);
    var max = Math.max.apply(null, items.map(function (it) { return it.value || 0; })) || 1;
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, "data-chart": name, "data-unit": unit, role: "img", "aria-label": label(box) });
    items.forEach(function (it, i) {
      var y = T + i * row;
      var maxChars = Math.max(6, Math.floor((labelW - 8) / 6.3));
      var lbl = it.label.length > maxChars ? it.label.slice(0, maxChars - 1) + "…" : it.label;
      s.appendChild(tip(svg("text", { class: "lbl", x: labelW - 6, y: y + 15, "text-anchor": "end" }, lbl), it.label));
      var g = svg("g", { class: "mark", "data-key": it.key, "data-value": it.value });
      if (it.parts) {
        var x = labelW;
        it.parts.forEach(function (p) {
          var w = (pw * p.value) / max;
          g.setAttribute("data-" + p.cls, p.value);
          g.appendChild(tip(svg("rect", { class: "bar " + p.cls, x: x.toFixed(1), y: y + 3, width: Math.max(0, w).toFixed(1), height: row - 7 }),
            it.label + " " + p.label + ": " + FMT[unit](p.value)));
          x += w;
        });
      } else {
        g.appendChild(tip(svg("rect", { class: "bar", x: labelW, y: y + 3, width: Math.max(1, (pw * (it.value || 0)) / max).toFixed(1), height: row - 7 }),
          it.label + ": " + FMT[unit](it.value)));
      }
      s.appendChild(g);
      s.appendChild(svg("text", { x: W - 2, y: y + 15, "text-anchor": "end" }, it.text || FMT[unit](it.value)));
    });
    box.appendChild(s);
    if (legend) {
      var lg = el("div", { class: "legend" });
      legend.forEach(function (l) {
        var span = el("span");
        span.appendChild(el("i", { style: "background:" + l.color }));
        span.appendChild(document.createTextNode(l.label));
        lg.appendChild(span);
      });
      box.appendChild(lg);
    }
  }

  // ---------- filters ----------
  var F = { from: D0, to: DMAX, state: "", grain: "month" };
  var ui = {
    from: document.getElementById("f-from"),
    to: document.getElementById("f-to"),
    state: document.getElementById("f-state"),
    grain: document.getElementById("f-grain"),
  };
  D.states.forEach(function (s) { ui.state.appendChild(el("option", { value: s }, s)); });
  if (D0 !== null) {
    ui.from.min = ui.to.min = iso(D0);
    ui.from.max = ui.to.max = iso(DMAX);
  }
  function readHash() {
    var h = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var p = kv.split("=");
      if (p[0]) h[decodeURIComponent(p[0])] = decodeURIComponent(p[1] || "");
    });
    if (h.from && /^\d{4}-\d{2}-\d{2}$/.test(h.from)) F.from = parseISO(h.from);
    if (h.to && /^\d{4}-\d{2}-\d{2}$/.test(h.to)) F.to = parseISO(h.to);
    if (h.state !== undefined && (h.state === "" || D.states.indexOf(h.state) >= 0)) F.state = h.state;
    if (["day", "week", "month"].indexOf(h.grain) >= 0) F.grain = h.grain;
  }
  function syncUI() {
    if (F.from !== null) ui.from.value = iso(F.from);
    if (F.to !== null) ui.to.value = iso(F.to);
    ui.state.value = F.state;
    ui.grain.value = F.grain;
  }
  function fromUI() {
    if (ui.from.value) F.from = parseISO(ui.from.value);
    if (ui.to.value) F.to = parseISO(ui.to.value);
    if (F.from !== null && F.to !== null && F.from > F.to) { var t = F.from; F.from = F.to; F.to = t; }
    F.state = ui.state.value;
    F.grain = ui.grain.value;
    var hash = "from=" + (F.from !== null ? iso(F.from) : "") + "&to=" + (F.to !== null ? iso(F.to) : "") + "&state=" + encodeURIComponent(F.state) + "&grain=" + F.grain;
    if (history.replaceState) history.replaceState(null, "", "#" + hash);
    render();
  }
  ["from", "to", "state", "grain"].forEach(function (k) { ui[k].addEventListener("change", fromUI); });
  document.getElementById("f-reset").addEventListener("click", function () {
    F = { from: D0, to: DMAX, state: "", grain: "month" };
    syncUI();
    fromUI();
  });

  // ---------- aggregation ----------
  // D.daily: mart_daily_sales rows (day, state, category): revenue, freight, items.
  // D.orders: mart_daily_orders rows (day, state): distinct orders and their revenue. Order counts
  // and AOV come from D.orders only: an order spanning two categories sits in two D.daily rows.
  function filtered(cols) {
    var out = [], sIdx = F.state ? D.states.indexOf(F.state) : -1;
    var lo = F.from - D0, hi = F.to - D0;
    for (var i = 0; i < cols.day.length; i++) {
      if (cols.day[i] < lo || cols.day[i] > hi) continue;
      if (sIdx >= 0 && cols.st[i] !== sIdx) continue;
      out.push(i);
    }
    return out;
  }
  function sumBy(cols, rows, keyFn, fields) {
    var m = {};
    rows.forEach(function (i) {
      var k = keyFn(i), acc = m[k];
      if (!acc) { acc = m[k] = { key: k }; fields.forEach(function (f) { acc[f] = 0; }); }
      fields.forEach(function (f) { acc[f] += cols[f][i]; });
    });
    return m;
  }
  function monthKey(dayNum) { return iso(dayNum).slice(0, 7); }

  // ---------- panels ----------
  function setKPI(name, value, unit) {
    var k = document.querySelector('[data-kpi="' + name + '"]');
    k.setAttribute("data-value", value === null ? "" : value);
    k.setAttribute("data-unit", unit);
    k.querySelector(".v").textContent = FMT[unit](value);
  }

  function renderSales() {
    var d = D.daily, o = D.orders, rows = filtered(d), orows = filtered(o);
    var tot = { rev: 0, frt: 0, itm: 0 }, otot = { ord: 0, rev: 0 };
    rows.forEach(function (i) { tot.rev += d.rev[i]; tot.frt += d.frt[i]; tot.itm += d.itm[i]; });
    orows.forEach(function (i) { otot.ord += o.ord[i]; otot.rev += o.rev[i]; });
    setKPI("revenue", tot.rev, "money");
    setKPI("orders", otot.ord, "count");
    setKPI("aov", otot.ord ? Math.round(otot.rev / otot.ord) : null, "money");
    setKPI("items", tot.itm, "count");
    setKPI("freight", tot.frt, "money");

    // time series over every period in the range (empty periods are zero)
    var byP = sumBy(d, rows, function (i) { return periodStart(D0 + d.day[i], F.grain); }, ["rev"]);
    var byPo = sumBy(o, orows, function (i) { return periodStart(D0 + o.day[i], F.grain); }, ["ord", "rev"]);
    var rev = [], ord = [], aov = [];
    if (F.from !== null) {
      for (var p = periodStart(F.from, F.grain); p <= F.to; p = nextPeriod(p, F.grain)) {
        var a = byP[p] || { rev: 0 }, b = byPo[p] || { ord: 0, rev: 0 };
        var label = F.grain === "month" ? iso(p).slice(0, 7) : iso(p);
        rev.push({ key: iso(p), label: label, value: a.rev });
        ord.push({ key: iso(p), label: label, value: b.ord });
        aov.push({ key: iso(p), label: label, value: b.ord ? Math.round(b.rev / b.ord) : null });
      }
    }
    lineChart("revenue-trend", rev, "money");
    lineChart("orders-trend", ord, "count");
    lineChart("aov-trend", aov.filter(function (x) { return x.value !== null; }), "money");

    var bySt = sumBy(d, rows, function (i) { return D.states[d.st[i]]; }, ["rev"]);
    barChart("revenue-by-state", Object.keys(bySt).map(function (k) { return { key: k, label: k, value: bySt[k].rev }; })
      .sort(function (a, b) { return b.value - a.value || (a.key < b.key ? -1 : 1); }), "money");

    var byCat = sumBy(d, rows, function (i) { return D.categories[d.cat[i]]; }, ["rev"]);
    barChart("category-revenue", Object.keys(byCat).map(function (k) { return { key: k, label: k.replace(/_/g, " "), value: byCat[k].rev }; })
      .sort(function (a, b) { return b.value - a.value || (a.key < b.key ? -1 : 1); }).slice(0, 12), "money");

    // delivery: months overlapping the date range
    var mLo = F.from !== null ? monthKey(F.from) : "", mHi = F.to !== null ? monthKey(F.to) : "";
    var del = {}, tDel = 0, tLate = 0;
    D.delivery.forEach(function (r) {
      if (r[1] < mLo || r[1] > mHi || (F.state && r[0] !== F.state)) return;
      var a = del[r[0]] || (del[r[0]] = { delivered: 0, on_time: 0, late: 0 });
      a.delivered += r[2]; a.on_time += r[3]; a.late += r[4];
      tDel += r[2]; tLate += r[4];
    });
    setKPI("late-rate", tDel ? tLate / tDel : null, "ratio");
    barChart("delivery-by-state", Object.keys(del).map(function (k) {
      var a = del[k];
      return { key: k, label: k, value: a.on_time + a.late, text: fmtPct(a.delivered ? a.late / a.delivered : null) + " late",
        parts: [{ cls: "ontime", label: "on time", value: a.on_time }, { cls: "late", label: "late", value: a.late }] };
    }).sort(function (a, b) { return b.value - a.value || (a.key < b.key ? -1 : 1); }), "count",
      [{ label: "on time", color: "var(--ok)" }, { label: "late", color: "var(--bad)" }]);

    var note = "Showing " + (F.from !== null ? iso(F.from) + " to " + iso(F.to) : "no data") + (F.state ? " in " + F.state : " in all states") + ".";
    document.getElementById("filter-note").textContent = note;
  }

  function renderCategoryTable() {
    var tb = document.querySelector("#category-table tbody");
    tb.textContent = "";
    D.category_perf.forEach(function (c) {
      var tr = el("tr", { "data-category": c.category, "data-revenue": c.rev, "data-orders": c.orders, "data-share": c.share });
      tr.appendChild(el("td", {}, c.category.replace(/_/g, " ")));
      tr.appendChild(el("td", { class: "n" }, fmtBRL(c.rev)));
      tr.appendChild(el("td", { class: "n" }, fmtPct(c.share)));
      tr.appendChild(el("td", { class: "n" }, fmtInt(c.orders)));
      tr.appendChild(el("td", { class: "n" }, fmtInt(c.items)));
      tr.appendChild(el("td", { class: "n" }, fmtBRL(c.avg_price)));
      tr.appendChild(el("td", { class: "n" }, fmtNum(c.review, 2)));
      tb.appendChild(tr);
    });
  }

  function renderCustomers() {
    var rows = D.customers.filter(function (r) { return !F.state || r[0] === F.state; });
    var bySeg = {}, bySt = {}, byRev = {}, n = 0, ltv = 0;
    rows.forEach(function (r) {
      bySeg[r[1]] = (bySeg[r[1]] || 0) + r[3];
      bySt[r[0]] = (bySt[r[0]] || 0) + r[3];
      byRev[r[2]] = (byRev[r[2]] || 0) + r[3];
      n += r[3]; ltv += r[4];
    });
    setKPI("customers", n, "count");
    setKPI("customer-ltv", ltv, "money");
    var segs = SEGMENTS.concat(Object.keys(bySeg).filter(function (s) { return SEGMENTS.indexOf(s) < 0; }).sort());
    barChart("rfm-segments", segs.filter(function (s) { return bySeg[s]; })
      .map(function (s) { return { key: s, label: s.replace(/_/g, " "), value: bySeg[s] }; }), "count");
    barChart("customers-by-state", Object.keys(bySt).map(function (k) { return { key: k, label: k, value: bySt[k] }; })
      .sort(function (a, b) { return b.value - a.value || (a.key < b.key ? -1 : 1); }), "count");
    var buckets = [5, 4, 3, 2, 1, 0].filter(function (b) { return byRev[b]; });
    barChart("review-distribution", buckets.map(function (b) {
      return { key: String(b), label: b ? "★".repeat(b) + " (" + b + ")" : "no review", value: byRev[b] };
    }), "count");

    var cities = D.cities.filter(function (r) { return r[3] > 0 && (!F.state || r[0] === F.state); })
      .sort(function (a, b) { return b[3] - a[3] || (a[1] + a[0] < b[1] + b[0] ? -1 : 1); }).slice(0, 10);
    barChart("top-cities", cities.map(function (r) { return { key: r[1] + "/" + r[0], label: r[1] + " (" + r[0] + ")", value: r[3] }; }), "money");

    var tb = document.querySelector("#top-customers tbody");
    tb.textContent = "";
    var top = D.top_customers.filter(function (c) { return !F.state || c.state === F.state; }).slice(0, 25);
    if (!top.length) {
      var tr0 = el("tr");
      tr0.appendChild(el("td", { colspan: 10, class: "empty" }, "No top-100 customer lives in the selected state."));
      tb.appendChild(tr0);
    }
    top.forEach(function (c) {
      var tr = el("tr", { "data-customer": c.id, "data-rank": c.rank, "data-ltv": c.ltv, "data-orders": c.orders, "data-review": c.review === null ? "" : c.review });
      tr.appendChild(el("td", { class: "n" }, String(c.rank)));
      tr.appendChild(el("td", { class: "id", title: c.id }, c.id.slice(0, 12) + (c.id.length > 12 ? "…" : "")));
      tr.appendChild(el("td", {}, c.city || "–"));
      tr.appendChild(el("td", {}, c.state || "–"));
      tr.appendChild(el("td", { class: "n" }, fmtInt(c.orders)));
      tr.appendChild(el("td", { class: "n" }, fmtBRL(c.ltv)));
      tr.appendChild(el("td", { class: "n" }, fmtBRL(c.aov)));
      tr.appendChild(el("td", { class: "n" }, fmtNum(c.review, 1)));
      tr.appendChild(el("td", {}, (c.segment || "–").replace(/_/g, " ")));
      tr.appendChild(el("td", {}, c.last ? String(c.last).slice(0, 10) : "–"));
      tb.appendChild(tr);
    });
  }

  function table(headers, rows) {
    var t = el("table"), th = el("thead"), tr = el("tr");
    headers.forEach(function (h) { tr.appendChild(el("th", { class: h.n ? "n" : null }, h.t)); });
    th.appendChild(tr);
    t.appendChild(th);
    var tb = el("tbody");
    rows.forEach(function (r) { tb.appendChild(r); });
    t.appendChild(tb);
    var wrap = el("div", { class: "scroll" });
    wrap.appendChild(t);
    return wrap;
  }
  function daysSince(ts) {
    if (!ts) return "";
    var then = Date.parse(String(ts).replace(" ", "T") + (String(ts).length <= 10 ? "T00:00:00Z" : "Z"));
    if (isNaN(then)) return "";
    var d = Math.floor((Date.now() - then) / DAY);
    return " (" + fmtInt(d) + " day" + (d === 1 ? "" : "s") + " before now)";
  }
  function renderHealth() {
    var H = D.health || {}, sc = document.getElementById("scorecard");
    sc.textContent = "";
    if (!H.dq || !H.dq.checks.length) {
      sc.appendChild(el("p", { class: "empty", "data-health": "no-dq" }, "No quality run yet."));
    } else {
      var counts = { pass: 0, warn: 0, fail: 0 };
      H.dq.checks.forEach(function (c) { counts[c.status] = (counts[c.status] || 0) + 1; });
      var sum = el("p", { class: "note", "data-health": "dq", "data-run": H.dq.run_id, "data-pass": counts.pass, "data-warn": counts.warn, "data-fail": counts.fail },
        "Run " + H.dq.run_id + ", checked " + H.dq.checked_at + ": " + counts.pass + " pass, " + counts.warn + " warn, " + counts.fail + " fail.");
      sc.appendChild(sum);
      // per dimension: how many checks, the worst status and the lowest score
      var dims = {}, order = { pass: 0, warn: 1, fail: 2 };
      H.dq.checks.forEach(function (c) {
        var d = dims[c.dimension] || (dims[c.dimension] = { n: 0, pass: 0, warn: 0, fail: 0, min: null, worst: "pass" });
        d.n += 1; d[c.status] = (d[c.status] || 0) + 1;
        if (c.score !== null && (d.min === null || c.score < d.min)) d.min = c.score;
        if ((order[c.status] || 0) > (order[d.worst] || 0)) d.worst = c.status;
      });
      sc.appendChild(table([{ t: "Dimension" }, { t: "Checks", n: 1 }, { t: "Pass", n: 1 }, { t: "Warn", n: 1 }, { t: "Fail", n: 1 }, { t: "Lowest score", n: 1 }],
        Object.keys(dims).sort().map(function (k) {
          var d = dims[k], tr = el("tr", { "data-dimension": k, "data-status": d.worst });
          var td = el("td");
          td.appendChild(el("span", { class: "status " + d.worst }, k));
          tr.appendChild(td);
          [d.n, d.pass, d.warn, d.fail].forEach(function (v) { tr.appendChild(el("td", { class: "n" }, fmtInt(v))); });
          tr.appendChild(el("td", { class: "n" }, fmtNum(d.min, 2)));
          return tr;
        })));
      var headers = [{ t: "Status" }, { t: "Check" }, { t: "Dimension" }, { t: "Table" }, { t: "Rows", n: 1 }, { t: "Failed", n: 1 }, { t: "Score", n: 1 }, { t: "Threshold", n: 1 }, { t: "Blocking" }];
      function checkRow(c) {
        var tr = el("tr", { "data-check": c.check, "data-status": c.status, "data-score": c.score === null ? "" : c.score });
        var td = el("td");
        td.appendChild(el("span", { class: "status " + c.status }, c.status));
        tr.appendChild(td);
        [c.check, c.dimension, c.table].forEach(function (v) { tr.appendChild(el("td", {}, v === null ? "–" : String(v))); });
        tr.appendChild(el("td", { class: "n" }, c.checked === null ? "–" : fmtInt(c.checked)));
        tr.appendChild(el("td", { class: "n" }, c.failed === null ? "–" : fmtInt(c.failed)));
        tr.appendChild(el("td", { class: "n" }, fmtNum(c.score, 2)));
        tr.appendChild(el("td", { class: "n" }, fmtNum(c.threshold, 2)));
        tr.appendChild(el("td", {}, c.blocking ? "yes" : "no"));
        return tr;
      }
      var bad = H.dq.checks.filter(function (c) { return c.status !== "pass"; })
        .sort(function (a, b) { return (order[b.status] || 0) - (order[a.status] || 0); });
      if (bad.length) {
        sc.appendChild(el("p", { class: "note" }, "Checks that did not pass:"));
        var badTable = table(headers, bad.map(checkRow));
        badTable.setAttribute("data-list", "not-passing");
        sc.appendChild(badTable);
      }
      var all = el("details", { "data-list": "all-checks" });
      all.appendChild(el("summary", {}, "All " + H.dq.checks.length + " checks"));
      all.appendChild(table(headers, H.dq.checks.map(checkRow)));
      sc.appendChild(all);
    }

    var fr = document.getElementById("freshness");
    fr.textContent = "";
    var dl = el("dl", { class: "facts" });
    function fact(k, v, attrs) { dl.appendChild(el("dt", {}, k)); dl.appendChild(el("dd", attrs || {}, v)); }
    fact("Newest order", D.meta.data_to ? D.meta.data_to + daysSince(D.meta.data_to) : "–", { "data-fresh": "data-to", "data-value": D.meta.data_to || "" });
    var loaded = (H.ledger || []).filter(function (r) { return r.status === "loaded"; })[0];
    fact("Last file loaded", loaded && loaded.last_loaded_at ? loaded.last_loaded_at + daysSince(loaded.last_loaded_at) : "no load yet",
      { "data-fresh": "last-load", "data-value": loaded ? loaded.last_loaded_at || "" : "" });
    fact("Newest batch", loaded && loaded.last_ingest_date ? String(loaded.last_ingest_date) : "–");
    var run = (H.runs || [])[0];
    var runNote = !run || !run.status ? "" : run.status === "running" ? " — this run published the page" : " — " + run.status;
    if (run && run.failed_steps) runNote += " (" + run.failed_steps + " failed step" + (run.failed_steps > 1 ? "s" : "") + ")";
    fact("Last run", run ? run.run_id + " at " + run.started_at + runNote : "no run yet",
      { "data-fresh": "last-run", "data-value": run ? run.run_id : "" });
    var fchecks = H.dq ? H.dq.checks.filter(function (c) { return c.dimension === "freshness"; }) : [];
    fchecks.forEach(function (c) { fact("Check " + c.check, c.status + (c.table ? " (" + c.table + ")" : ""), { "data-fresh-check": c.check, "data-status": c.status }); });
    fr.appendChild(dl);

    var q = document.getElementById("quarantine");
    q.textContent = "";
    var qrows = H.quarantine || [], qtotal = 0;
    qrows.forEach(function (r) { qtotal += r.rows; });
    var files = (H.ledger || []).reduce(function (m, r) { m[r.status] = r.files; return m; }, {});
    var qd = el("dl", { class: "facts" });
    qd.appendChild(el("dt", {}, "Quarantined rows"));
    qd.appendChild(el("dd", { "data-kpi": "quarantined-rows", "data-value": qtotal }, fmtInt(qtotal)));
    ["loaded", "rejected", "duplicate"].forEach(function (s) {
      qd.appendChild(el("dt", {}, "Files " + s));
      qd.appendChild(el("dd", { "data-files": s, "data-value": files[s] || 0 }, fmtInt(files[s] || 0)));
    });
    q.appendChild(qd);
    if (qrows.length) {
      var shown = qrows.slice().sort(function (a, b) { return b.rows - a.rows; }).slice(0, 15);
      if (qrows.length > shown.length) q.appendChild(el("p", { class: "note" }, "The 15 largest of " + qrows.length + " (entity, reason) groups:"));
      q.appendChild(table([{ t: "Entity" }, { t: "Reason" }, { t: "Rows", n: 1 }], shown.map(function (r) {
        var tr = el("tr", { "data-entity": r.entity, "data-reason": r.reason, "data-value": r.rows });
        tr.appendChild(el("td", {}, r.entity));
        tr.appendChild(el("td", {}, r.reason));
        tr.appendChild(el("td", { class: "n" }, fmtInt(r.rows)));
        return tr;
      })));
    } else if (!H.quarantine) {
      q.appendChild(el("p", { class: "empty" }, "No quarantine table yet."));
    }
    document.getElementById("health-notes").textContent = (H.notes || []).join("; ");
  }

  function render() {
    try {
      renderSales();
      renderCustomers();
      renderHealth();
      document.body.setAttribute("data-ready", "1");
    } catch (e) {
      var b = document.getElementById("error");
      b.hidden = false;
      b.textContent = "The dashboard failed to draw: " + e.message;
      throw e;
    }
  }

  readHash();
  syncUI();
  renderCategoryTable();
  render();
  var lastW = window.innerWidth;
  window.addEventListener("resize", function () {
    if (window.innerWidth !== lastW) { lastW = window.innerWidth; render(); }
  });
  window.shopdw = { fmtBRL: fmtBRL, filters: F, render: render };
})();
