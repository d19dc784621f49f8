/**
 * The dashboard page: HTML, CSS and a small script, kept as strings so the built package carries them (tsc copies
 * no other files). No CDN: the chart library (uPlot) is served by the dashboard from node_modules. No inline script
 * or style, so the Content-Security-Policy can say `'self'` only. Every text that comes from a stream (titles,
 * addresses, CNAMEs) is set with `textContent`, never as HTML.
 */

/** The page's HTML. `title` is escaped here. */
export function pageHtml(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="assets/uPlot.min.css">
<link rel="stylesheet" href="app.css">
</head>
<body>
<header class="top">
  <h1>${escapeHtml(title)}</h1>
  <span id="conn" class="conn connecting">connecting</span>
  <span id="updated" class="muted"></span>
  <a class="muted" href="metrics">/metrics</a>
</header>
<main id="rows"><p id="empty" class="muted">Nothing to show yet: no stream, player, session or emulator stream.</p></main>
<script src="assets/uPlot.iife.min.js"></script>
<script src="app.js"></script>
</body>
</html>
`;
}

/** The login form shown instead of the page when a token is required and the browser has no session cookie. */
export function loginHtml(title: string, failed: boolean): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="app.css"></head>
<body>
<form class="login" method="post" action="login">
  <h1>${escapeHtml(title)}</h1>
  <p>This dashboard needs its access token.</p>
  ${failed ? '<p class="bad">That token is not the right one.</p>' : ''}
  <input type="password" name="token" autocomplete="current-password" autofocus required>
  <button type="submit">Open</button>
</form>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The stylesheet. */
export const PAGE_CSS = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1b1f24; --muted: #69707a; --line: #dde1e6;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --blue: #0969da; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --card: #161b22; --fg: #e6edf3; --muted: #8b949e; --line: #30363d;
  --ok: #3fb950; --warn: #d29922; --bad: #f85149; --blue: #58a6ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
.top { display: flex; align-items: baseline; gap: 16px; padding: 10px 18px; border-bottom: 1px solid var(--line); background: var(--card); }
.top h1 { font-size: 16px; margin: 0; }
.muted { color: var(--muted); }
a.muted { margin-left: auto; }
.conn { padding: 1px 8px; border-radius: 9px; font-size: 12px; border: 1px solid currentColor; }
.conn.live { color: var(--ok); } .conn.connecting { color: var(--warn); } .conn.ended { color: var(--muted); }
main { padding: 12px 18px; display: grid; gap: 12px; }
.row { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.row > header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 10px; margin-bottom: 6px; }
.row h2 { font-size: 14px; margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.kind { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.status { font-weight: 600; }
.status.playing, .status.live { color: var(--ok); } .status.kicked, .status.reclaimed { color: var(--bad); }
.status.paused, .status.loading, .status.waiting { color: var(--warn); }
.track { color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 60ch; }
.body { display: grid; grid-template-columns: minmax(0, 1fr) 360px; gap: 14px; align-items: start; }
@media (max-width: 900px) { .body { grid-template-columns: 1fr; } }
.chart { min-height: 200px; }
table.figures { border-collapse: collapse; width: 100%; table-layout: fixed; font-variant-numeric: tabular-nums; }
.figures th { width: 48%; text-align: left; font-weight: normal; color: var(--muted); padding: 1px 8px 1px 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.figures td { text-align: right; padding: 1px 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.figures td.bad { color: var(--bad); font-weight: 600; } .figures td.warn { color: var(--warn); }
.u-legend { font-size: 12px; }
.login { max-width: 340px; margin: 12vh auto; padding: 20px; background: var(--card); border: 1px solid var(--line); border-radius: 6px; display: grid; gap: 10px; }
.login h1 { font-size: 16px; margin: 0; } .login .bad { color: var(--bad); margin: 0; }
.login input, .login button { font: inherit; padding: 6px 8px; }
`;

/** The page script (plain browser JavaScript). */
export const PAGE_JS = String.raw`
'use strict';
(function () {
  const rowsEl = document.getElementById('rows');
  const emptyEl = document.getElementById('empty');
  const connEl = document.getElementById('conn');
  const updatedEl = document.getElementById('updated');
  const HISTORY = 300;
  /** The chart shows up to the last two minutes (at least half a minute), the newest second at the right edge. */
  const WINDOW_SEC = 120;
  const MIN_WINDOW_SEC = 30;
  const windowFor = (span) => Math.min(WINDOW_SEC, Math.max(MIN_WINDOW_SEC, Math.ceil(span)));
  const rows = new Map();
  const api = { charts: {}, ticks: 0, rows: {} };
  window.kookRtpDashboard = api;

  const kbps = (b) => (b === null || b === undefined ? '–' : (b / 1000).toFixed(1) + ' kbit/s');
  const num = (v) => (v === null || v === undefined ? '–' : String(v));
  const msf = (v, d) => (v === null || v === undefined ? '–' : v.toFixed(d === undefined ? 2 : d) + ' ms');
  const pct = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(1) + ' %');
  const time = (s) => { s = Math.max(0, Math.floor(s)); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); };
  const db = (v) => (v === null || v === undefined ? '–' : v.toFixed(1) + ' dBFS');

  function figures(r) {
    const f = [];
    const p = r.point;
    const ratio = p.bps !== null && r.limitBps ? p.bps / r.limitBps : null;
    const rateCls = ratio === null ? '' : ratio > 1.2 ? 'bad' : ratio > 1 ? 'warn' : '';
    f.push(['bitrate', r.kind === 'emulator' ? 'bitrate received (1 s)' : 'bitrate (1 s)', kbps(p.bps) + (ratio === null ? '' : ' · ' + Math.round(ratio * 100) + ' %'), rateCls]);
    f.push(['limit', 'room / kick line', r.limitBps === null ? '–' : (r.limitBps / 1000).toFixed(1) + ' / ' + (r.kickBps / 1000).toFixed(1) + ' kbit/s']);
    const s = r.sender;
    if (s) {
      f.push(['max-bps', 'max 1 s window', kbps(s.maxBps), r.kickBps && s.maxBps > r.kickBps ? 'bad' : '']);
      f.push(['packets', 'packets sent', num(s.packets)]);
      f.push(['bytes-rtp', 'RTP bytes', num(s.bytes.rtp)]);
      f.push(['lateness', 'lateness p50 / p99 / max', s.lateness.p50Ms.toFixed(2) + ' / ' + s.lateness.p99Ms.toFixed(2) + ' / ' + s.lateness.maxMs.toFixed(1) + ' ms']);
      f.push(['stalls', 'stalls / underruns', num(s.stalls) + ' / ' + num(s.underruns), s.stalls + s.underruns > 0 ? 'warn' : '']);
      f.push(['backlog', 'guard backlog now / max', s.guard ? msf(s.guard.backlogMs, 0) + ' / ' + msf(s.guard.maxBacklogMs, 0) : 'guard off', s.guard && s.guard.backlogMs > 100 ? 'warn' : '']);
      f.push(['rtcp', 'RTCP loss / jitter / RTT', s.remote ? pct(s.remote.fractionLost) + ' / ' + msf(s.remote.jitterMs) + ' / ' + msf(s.remote.rttMs) : 'no report yet']);
      if (s.sendErrors > 0) f.push(['send-errors', 'send errors', num(s.sendErrors), 'bad']);
    }
    const pl = r.player;
    if (pl) {
      f.push(['position', 'position', pl.title === null ? '–' : time(pl.positionSec) + (pl.durationSec === null ? '' : ' / ' + time(pl.durationSec))]);
      f.push(['queue', 'queue', pl.queue.length === 0 ? 'empty' : pl.queue.length + ': ' + pl.queue.slice(0, 3).join(', ')]);
    }
    const se = r.session;
    if (se) {
      f.push(['media', 'media address', se.mediaAddress === null ? 'not joined' : se.mediaAddress]);
      f.push(['closed', 'far-side closes / rejoins', num(se.streamClosed) + ' / ' + num(se.rejoins), se.streamClosed > 0 ? 'bad' : '']);
    }
    const e = r.emulator;
    if (e) {
      f.push(['max-bps', 'max 1 s window', kbps(e.maxBitrate1sBps), e.maxBitrate1sBps > r.kickBps ? 'bad' : '']);
      f.push(['source', 'bound source', e.source === null ? 'none yet' : e.source]);
      f.push(['packets', 'packets received', num(e.packets)]);
      f.push(['bytes-rtp', 'RTP bytes', num(e.bytes)]);
      f.push(['loss', 'lost / dup / out of order', num(e.lost) + ' / ' + num(e.duplicates) + ' / ' + num(e.outOfOrder), e.lost > 0 ? 'warn' : '']);
      f.push(['jitter', 'jitter / since last packet', msf(e.jitterMs) + ' / ' + msf(e.sinceLastPacketMs, 0)]);
      f.push(['kicks', 'kicks', e.kicked ? '1 (at ' + kbps(e.kicked.windowBitrate) + ')' : '0', e.kicked ? 'bad' : '']);
      f.push(['mismatches', 'SSRC / PT / other source', num(e.ssrcMismatches) + ' / ' + num(e.ptMismatches) + ' / ' + num(e.droppedFromOtherSources), e.ssrcMismatches + e.ptMismatches + e.droppedFromOtherSources > 0 ? 'bad' : '']);
      f.push(['level', 'level RMS / peak', db(e.levelDbfs) + ' / ' + db(e.peakDbfs)]);
      f.push(['rtcp', 'RTCP SR in / RR out / BYE', num(e.rtcp.srs) + ' / ' + num(e.rtcp.rrsSent) + ' / ' + num(e.rtcp.byes)]);
    }
    return f;
  }

  function trackLine(r) {
    if (r.player && r.player.title !== null) return '♪ ' + r.player.title + (r.player.codec ? ' (' + r.player.codec + ', ' + r.player.mode + ')' : '');
    if (r.emulator) return 'channel ' + r.emulator.channelId + ' · port ' + r.emulator.port + ' · ssrc ' + r.emulator.ssrc + ' · pt ' + r.emulator.payloadType;
    if (r.sender) return 'ssrc ' + r.sender.ssrc;
    return '';
  }

  function chartSize(el) {
    return { width: Math.max(300, el.clientWidth), height: 200 };
  }

  function makeChart(el, kind) {
    const right = kind === 'emulator' ? 'jitter at the receiver, ms' : 'send lateness (mean of the second), ms';
    const opts = Object.assign(chartSize(el), {
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true, range: (u, min, max) => [max - windowFor(max - min), max] }, kbps: { range: (u, min, max) => [0, Math.max(max * 1.1, 10)] }, ms: { range: (u, min, max) => [0, Math.max(max * 1.2, 5)] } },
      axes: [
        { stroke: '#8b949e', grid: { stroke: 'rgba(127,127,127,0.15)' } },
        { scale: 'kbps', label: 'kbit/s', stroke: '#8b949e', grid: { stroke: 'rgba(127,127,127,0.15)' } },
        { scale: 'ms', side: 1, label: 'ms', stroke: '#8b949e', grid: { show: false } },
      ],
      series: [
        {},
        { label: 'bitrate', scale: 'kbps', stroke: '#0969da', width: 2, fill: 'rgba(9,105,218,0.12)', points: { show: true, size: 4 } },
        { label: 'room limit', scale: 'kbps', stroke: '#1a7f37', width: 1.5, dash: [6, 4], points: { show: false } },
        { label: '120% kick line', scale: 'kbps', stroke: '#cf222e', width: 1.5, dash: [3, 3], points: { show: false } },
        { label: right, scale: 'ms', stroke: '#bc4c00', width: 1, points: { show: false } },
      ],
    });
    return new uPlot(opts, [[], [], [], [], []], el);
  }

  function build(r) {
    const sec = document.createElement('section');
    sec.className = 'row';
    sec.dataset.stream = r.name;
    const head = document.createElement('header');
    const h2 = document.createElement('h2');
    h2.textContent = r.name;
    const kind = document.createElement('span');
    kind.className = 'kind';
    kind.textContent = r.kind;
    const status = document.createElement('span');
    status.className = 'status';
    const track = document.createElement('span');
    track.className = 'track';
    head.append(h2, kind, status, track);
    const body = document.createElement('div');
    body.className = 'body';
    const chartEl = document.createElement('div');
    chartEl.className = 'chart';
    const table = document.createElement('table');
    table.className = 'figures';
    body.append(chartEl, table);
    sec.append(head, body);
    // Senders, players and sessions first; the emulator's view of the same streams below them.
    const firstEmulator = r.kind === 'emulator' ? null : rowsEl.querySelector('section.row[data-kind="emulator"]');
    sec.dataset.kind = r.kind;
    rowsEl.insertBefore(sec, firstEmulator);
    const row = { el: sec, status, track, table, chartEl, chart: makeChart(chartEl, r.kind), data: [[], [], [], [], []], cells: new Map() };
    api.charts[r.name] = row.chart;
    rows.set(r.name, row);
    return row;
  }

  function push(row, r, p) {
    const d = row.data;
    d[0].push(p.t / 1000);
    d[1].push(p.bps === null ? null : p.bps / 1000);
    d[2].push(r.limitBps === null ? null : r.limitBps / 1000);
    d[3].push(r.kickBps === null ? null : r.kickBps / 1000);
    d[4].push(r.kind === 'emulator' ? p.jitterMs : p.latenessMs);
    if (d[0].length > HISTORY) for (const a of d) a.splice(0, a.length - HISTORY);
  }

  /**
   * The data drawn. The room limit and the kick line are reference lines at their current values across the whole
   * window (also before a session joined, and while the history is shorter than the window).
   */
  function shown(d) {
    const n = d[0].length;
    if (n === 0) return d;
    const max = d[0][n - 1];
    const start = max - windowFor(max - d[0][0]);
    const pad = d[0][0] > start;
    const xs = pad ? [start].concat(d[0]) : d[0];
    const line = (v) => xs.map(() => v);
    return [xs, pad ? [null].concat(d[1]) : d[1], line(d[2][n - 1]), line(d[3][n - 1]), pad ? [null].concat(d[4]) : d[4]];
  }

  function render(row, r) {
    row.status.textContent = r.status;
    row.status.className = 'status ' + r.status.replace(/[^a-z]/g, '');
    row.track.textContent = trackLine(r);
    row.track.title = row.track.textContent;
    const list = figures(r);
    let added = false;
    for (const [key, label, value, cls] of list) {
      let cell = row.cells.get(key + '|' + label);
      if (!cell) {
        added = true;
        const tr = document.createElement('tr');
        const th = document.createElement('th');
        th.textContent = label;
        cell = document.createElement('td');
        cell.dataset.k = key;
        tr.append(th, cell);
        row.table.append(tr);
        row.cells.set(key + '|' + label, cell);
      }
      cell.textContent = value;
      cell.title = value;
      cell.className = cls || '';
    }
    // Figures that appear later (a session's sender after join) take their place in the usual order.
    if (added) for (const [key, label] of list) row.table.append(row.cells.get(key + '|' + label).parentNode);
    api.rows[r.name] = r;
  }

  function update(r, history) {
    let row = rows.get(r.name);
    if (!row) row = build(r);
    if (history) for (const p of history) push(row, r, p);
    else push(row, r, r.point);
    row.chart.setData(shown(row.data));
    render(row, r);
  }

  function removeRow(name) {
    const row = rows.get(name);
    if (!row) return;
    row.chart.destroy();
    row.el.remove();
    rows.delete(name);
    delete api.charts[name];
    delete api.rows[name];
  }

  function stamp(t) {
    emptyEl.hidden = rows.size > 0;
    updatedEl.textContent = 'updated ' + new Date(t).toLocaleTimeString();
    api.ticks++;
  }

  function setConn(state) {
    connEl.textContent = state;
    connEl.className = 'conn ' + state;
  }

  const es = new EventSource('events');
  es.addEventListener('hello', (ev) => {
    const msg = JSON.parse(ev.data);
    for (const name of [...rows.keys()]) removeRow(name);
    for (const r of msg.rows) update(r, msg.history[r.name] || [r.point]);
    setConn('live');
    stamp(msg.t);
  });
  es.addEventListener('tick', (ev) => {
    const msg = JSON.parse(ev.data);
    for (const name of msg.removed) removeRow(name);
    for (const r of msg.rows) update(r);
    setConn('live');
    stamp(msg.t);
  });
  es.addEventListener('end', () => {
    es.close();
    setConn('ended');
    api.ended = true;
  });
  es.onerror = () => { if (!api.ended) setConn('connecting'); };
  window.addEventListener('resize', () => {
    for (const row of rows.values()) row.chart.setSize(chartSize(row.chartEl));
  });
})();
`;
