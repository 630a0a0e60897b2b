/* attnlab viewer: the one script inlined into every HTML page attnlab writes (src/report/html.cpp).
 * Vanilla JS, no build step, nothing fetched: the data sits in <script type="application/json"
 * id="attnlab-data">, and <div id="attnlab-root" data-view="NAME"> names the view to mount (VIEWS below).
 * Views: "attention" (src/report/attention_view.h): layer and head selectors, a heatmap of one head
 * (dest = query rows, src = key columns) or a grid of all heads, hover values, and a tokens strip.
 * Heatmaps are drawn on <canvas> from a 1-pixel-per-cell image and only the visible window is painted, so a
 * 512-token page opens fast and hovers smoothly. Token text is only ever set with textContent / fillText.
 * Longer than the usual 400 lines because the inliner takes one file: helpers, decoding, colour, tooltip,
 * the generic Heatmap and TokenStrip widgets (reused by later views) and the attention view live together.
 */
(function () {
  'use strict';

  // ---------- helpers ----------
  const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace';
  const COLOR = { text: '#1f2933', muted: '#8a94a3', accent: '#e8890c', grid: '#d5dae1', bg: '#ffffff' };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clamp(x, lo, hi) { return x < lo ? lo : x > hi ? hi : x; }
  function fmtValue(v) {
    if (v !== v) return 'NaN';
    if (v === Infinity) return '+inf';
    if (v === -Infinity) return '-inf';
    if (v === 0) return '0';
    const a = Math.abs(v);
    return a >= 1e-3 && a < 1e5 ? v.toPrecision(4) : v.toExponential(3);
  }
  // Token text with invisible characters made visible. label: also spaces (for axes), and shortened.
  function tokenText(t, label) {
    let s = String(t).replace(/\n/g, '\u21b5').replace(/\t/g, '\u21e5').replace(/\r/g, '\u240d');
    if (label) s = s.replace(/ /g, '\u00b7');
    if (s === '') s = '\u2205';
    return label && s.length > 14 ? s.slice(0, 13) + '\u2026' : s;
  }
  function quoted(t) { return '\u2018' + tokenText(t, false) + '\u2019'; }
  function niceStep(x) {
    const steps = [1, 2, 5];
    for (let p = 1; ; p *= 10) for (const s of steps) if (s * p >= x) return s * p;
  }

  // ---------- packed float arrays (src/report/pack.h: f24, 3 bytes per value, big-endian, base64) ----------
  function decodeF24(b64, n) {
    const s = atob(b64);
    if (s.length !== 3 * n) throw new Error('packed array holds ' + s.length / 3 + ' values, expected ' + n);
    const u = new Uint32Array(n);
    for (let i = 0, j = 0; i < n; i++, j += 3)
      u[i] = ((s.charCodeAt(j) << 24) | (s.charCodeAt(j + 1) << 16) | (s.charCodeAt(j + 2) << 8)) >>> 0;
    return new Float32Array(u.buffer);
  }

  // ---------- colour: a 256-entry white -> blue ramp (ColorBrewer Blues), three scales ----------
  const STOPS = ['#ffffff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];
  const LUT = (function () {
    const rgb = STOPS.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
    const lut = new Uint8ClampedArray(256 * 3);
    for (let k = 0; k < 256; k++) {
      const x = (k / 255) * (rgb.length - 1), i = Math.min(Math.floor(x), rgb.length - 2), f = x - i;
      for (let c = 0; c < 3; c++) lut[3 * k + c] = Math.round(rgb[i][c] * (1 - f) + rgb[i + 1][c] * f);
    }
    return lut;
  })();
  const NAN_RGB = [214, 51, 108];
  const SCALES = {
    abs: { name: '0\u20131', t: (v) => clamp(v, 0, 1), ticks: () => ['0', '0.5', '1'] },
    max: { name: '0\u2013max', t: (v, m) => (m > 0 ? clamp(v / m, 0, 1) : 0), ticks: () => ['0', '', 'head max'] },
    log: { name: 'log', t: (v) => (v > 0 ? clamp((Math.log10(v) + 4) / 4, 0, 1) : 0), ticks: () => ['\u22641e-4', '0.01', '1'] },
  };
  function lutIndex(t) { return (t * 255 + 0.5) | 0; }
  function cssColor(k) { return 'rgb(' + LUT[3 * k] + ',' + LUT[3 * k + 1] + ',' + LUT[3 * k + 2] + ')'; }

  function maskPattern(ctx) {
    const c = document.createElement('canvas');
    c.width = c.height = 6;
    const g = c.getContext('2d');
    g.fillStyle = '#f3f4f6'; g.fillRect(0, 0, 6, 6);
    g.strokeStyle = '#e3e6ea'; g.lineWidth = 1;
    g.beginPath(); g.moveTo(0, 6); g.lineTo(6, 0); g.stroke();
    return ctx.createPattern(c, 'repeat');
  }

  // ---------- tooltip: one floating box; rows of [label, value, className] ----------
  const Tip = {
    box: null,
    show(x, y, title, rows) {
      if (!this.box) { this.box = el('div', 'al-tip'); document.body.appendChild(this.box); }
      const b = this.box;
      b.replaceChildren(el('div', 'al-tip-title', title));
      for (const [k, v, cls] of rows) {
        const row = el('div', 'al-tip-row' + (cls ? ' ' + cls : ''));
        row.append(el('span', 'al-tip-k', k), el('span', 'al-tip-v', v));
        b.appendChild(row);
      }
      b.style.display = 'block';
      const w = b.offsetWidth, h = b.offsetHeight;
      b.style.left = (x + 16 + w > window.innerWidth ? x - w - 12 : x + 16) + 'px';
      b.style.top = (y + 16 + h > window.innerHeight ? y - h - 12 : y + 16) + 'px';
    },
    hide() { if (this.box) this.box.style.display = 'none'; },
  };

  // ---------- Heatmap: a virtualised canvas over an n_rows x n_cols matrix with labelled axes ----------
  // o: {nRows, nCols, rowLabel(i), colLabel(j), rowTitle, colTitle, onHover(hit | null, event), onZoom(cell)}
  // setImage(canvas of nCols x nRows pixels, one per cell; transparent = masked, pool). hit = {r, c} (c null: axis).
  function Heatmap(host, o) {
    const wrap = el('div', 'al-hm'), vp = el('div', 'al-hm-vp'), spacer = el('div', 'al-hm-spacer');
    const cv = el('canvas', 'al-hm-cv');
    vp.appendChild(spacer);
    wrap.append(vp, cv);
    host.appendChild(wrap);
    const ctx = cv.getContext('2d');
    const font = '11px ' + MONO, bold = '600 11px ' + MONO;
    let img = null, pooled = null, cell = 4, fit = true, hover = null, mark = { r: null, c: null }, LW = 0, LH = 0, raf = 0, pattern = null;

    function measure() {
      ctx.font = font;
      const longest = (n, f) => { let w = 0; for (let i = 0; i < n; i++) w = Math.max(w, ctx.measureText(f(i)).width); return w; };
      const digits = (n) => ctx.measureText(String(n - 1)).width;
      LW = Math.ceil(Math.max(longest(o.nRows, o.rowLabel) + digits(o.nRows) + 22, 100));
      LH = Math.ceil(Math.max(longest(o.nCols, o.colLabel) + digits(o.nCols) + 22, 48));
    }
    function layout() {
      const avail = wrap.clientWidth, maxH = Math.max(260, window.innerHeight * 0.78);
      if (avail === 0) return;
      if (fit) {
        cell = Math.max(0.25, Math.min((avail - LW - 24) / o.nCols, (maxH - LH - 24) / o.nRows, 32));
        o.onZoom(cell);
      }
      const w = LW + o.nCols * cell + 16, h = LH + o.nRows * cell + 16;
      spacer.style.width = w + 'px';
      spacer.style.height = h + 'px';
      vp.style.height = Math.min(h + (w > avail ? 14 : 0), maxH) + 'px';
      draw();
    }
    function schedule() { if (!raf) raf = requestAnimationFrame(() => { raf = 0; draw(); }); }

    function draw() {
      const W = vp.clientWidth, H = vp.clientHeight, dpr = window.devicePixelRatio || 1;
      if (cv.width !== Math.round(W * dpr) || cv.height !== Math.round(H * dpr)) {
        cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
        cv.style.width = W + 'px'; cv.style.height = H + 'px';
      }
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, W, H);
      const ox = LW - vp.scrollLeft, oy = LH - vp.scrollTop;
      const c0 = Math.max(0, Math.floor((LW - ox) / cell)), c1 = Math.min(o.nCols, Math.ceil((W - ox) / cell));
      const r0 = Math.max(0, Math.floor((LH - oy) / cell)), r1 = Math.min(o.nRows, Math.ceil((H - oy) / cell));
      ctx.save();
      ctx.beginPath(); ctx.rect(LW, LH, W - LW, H - LH); ctx.clip();
      if (c1 > c0 && r1 > r0) {
        if (!pattern) pattern = maskPattern(ctx);
        ctx.fillStyle = pattern;
        ctx.fillRect(ox + c0 * cell, oy + r0 * cell, (c1 - c0) * cell, (r1 - r0) * cell);
        // Below one device pixel per cell, a max-pooled image (if the view gives one) keeps thin patterns visible.
        const src = img && pooled && cell * dpr < 1 ? pooled(cell * dpr) : img;
        if (src) {
          const fx = src.width / o.nCols, fy = src.height / o.nRows;
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(src, c0 * fx, r0 * fy, (c1 - c0) * fx, (r1 - r0) * fy,
                        ox + c0 * cell, oy + r0 * cell, (c1 - c0) * cell, (r1 - r0) * cell);
        }
        ctx.strokeStyle = COLOR.grid; ctx.lineWidth = 1;
        ctx.strokeRect(ox - 0.5, oy - 0.5, o.nCols * cell + 1, o.nRows * cell + 1);
      }
      const band = (r, c) => {
        ctx.strokeStyle = 'rgba(31,41,51,0.55)'; ctx.lineWidth = 1;
        if (r !== null) ctx.strokeRect(ox - 0.5, oy + r * cell - 0.5, o.nCols * cell + 1, cell + 1);
        if (c !== null) ctx.strokeRect(ox + c * cell - 0.5, oy - 0.5, cell + 1, o.nRows * cell + 1);
      };
      band(mark.r, mark.c);
      if (hover) {
        band(hover.r, hover.c);
        if (hover.c !== null) {
          ctx.strokeStyle = COLOR.accent; ctx.lineWidth = 2;
          const s = Math.max(cell, 4);
          ctx.strokeRect(ox + (hover.c + 0.5) * cell - s / 2 - 1, oy + (hover.r + 0.5) * cell - s / 2 - 1, s + 2, s + 2);
        }
      }
      ctx.restore();
      drawAxes(W, H, ox, oy, r0, r1, c0, c1);
    }

    function drawAxes(W, H, ox, oy, r0, r1, c0, c1) {
      const rowStep = niceStep(13 / cell), colStep = niceStep(13 / cell);
      const hotRows = [hover && hover.r, mark.r], hotCols = [hover && hover.c, mark.c];
      const pair = (text, idx, x, y, hot) => {  // token nearest the matrix, index beyond it
        ctx.font = hot ? bold : font;
        ctx.fillStyle = hot ? COLOR.accent : COLOR.text;
        ctx.fillText(text, x, y);
        const w = ctx.measureText(text).width;
        ctx.font = font; ctx.fillStyle = COLOR.muted;
        return w;
      };
      // left axis: dest rows
      ctx.save();
      ctx.beginPath(); ctx.rect(0, LH - 7, LW, H - LH + 7); ctx.clip();  // 7 px: row 0's label is not cut
      ctx.fillStyle = COLOR.bg; ctx.fillRect(0, LH - 7, LW, H - LH + 7);
      ctx.textBaseline = 'middle'; ctx.textAlign = 'right';
      const rowLabel = (r, hot) => {
        const y = oy + (r + 0.5) * cell;
        if (hot) { ctx.fillStyle = COLOR.bg; ctx.fillRect(0, y - 8, LW, 16); }
        const w = pair(o.rowLabel(r), r, LW - 8, y, hot);
        ctx.fillText(String(r), LW - 8 - w - 6, y);
      };
      const hot = (list) => list.filter((i) => i !== null && i !== undefined && i >= 0);
      const clear = (list, i) => list.every((j) => Math.abs(j - i) * cell >= 13);  // room for a hot label
      for (let r = Math.ceil(r0 / rowStep) * rowStep; r < r1; r += rowStep) if (clear(hot(hotRows), r)) rowLabel(r, false);
      for (const r of hot(hotRows)) rowLabel(r, true);
      ctx.restore();
      // top axis: src columns, rotated
      ctx.save();
      ctx.beginPath(); ctx.rect(LW - 7, 0, W - LW + 7, LH); ctx.clip();
      ctx.fillStyle = COLOR.bg; ctx.fillRect(LW - 7, 0, W - LW + 7, LH);
      ctx.textBaseline = 'middle'; ctx.textAlign = 'left';
      const colLabel = (c, hot) => {
        ctx.save();
        ctx.translate(ox + (c + 0.5) * cell, LH - 8);
        ctx.rotate(-Math.PI / 2);
        if (hot) { ctx.fillStyle = COLOR.bg; ctx.fillRect(-2, -8, LH, 16); }
        const w = pair(o.colLabel(c), c, 0, 0, hot);
        ctx.fillText(String(c), w + 6, 0);
        ctx.restore();
      };
      for (let c = Math.ceil(c0 / colStep) * colStep; c < c1; c += colStep) if (clear(hot(hotCols), c)) colLabel(c, false);
      for (const c of hot(hotCols)) colLabel(c, true);
      ctx.restore();
      // corner: axis names
      ctx.fillStyle = COLOR.bg; ctx.fillRect(0, 0, LW - 7, LH - 7);
      ctx.font = '11px ' + 'system-ui, sans-serif'; ctx.fillStyle = COLOR.muted; ctx.textAlign = 'right';
      ctx.textBaseline = 'alphabetic';
      ctx.fillText(o.colTitle + ' \u2192', LW - 10, LH - 24);
      ctx.fillText(o.rowTitle + ' \u2193', LW - 10, LH - 10);
    }

    function hitAt(e) {
      const b = vp.getBoundingClientRect(), x = e.clientX - b.left, y = e.clientY - b.top;
      if (y < LH || y >= vp.clientHeight || x >= vp.clientWidth) return null;
      const r = Math.floor((y - LH + vp.scrollTop) / cell);
      if (r < 0 || r >= o.nRows) return null;
      if (x < LW) return { r, c: null };
      const c = Math.floor((x - LW + vp.scrollLeft) / cell);
      return c >= 0 && c < o.nCols ? { r, c } : null;
    }
    function setHover(hit, e) {
      const same = hit && hover && hit.r === hover.r && hit.c === hover.c;
      if (!same && (hit || hover)) { hover = hit; schedule(); }
      o.onHover(hit, e);
    }
    vp.addEventListener('mousemove', (e) => setHover(hitAt(e), e));
    vp.addEventListener('mouseleave', (e) => setHover(null, e));
    vp.addEventListener('scroll', () => { Tip.hide(); schedule(); });
    vp.addEventListener('wheel', (e) => {  // ctrl/cmd + wheel: zoom around the pointer
      if (!(e.ctrlKey || e.metaKey)) return;
      e.preventDefault();
      const b = vp.getBoundingClientRect(), x = e.clientX - b.left - LW, y = e.clientY - b.top - LH;
      api.zoom(cell * (e.deltaY < 0 ? 1.25 : 0.8), x, y);
    }, { passive: false });
    window.addEventListener('resize', () => { if (fit) layout(); else schedule(); });

    measure();
    const api = {
      el: wrap,
      // c: nCols x nRows canvas, one pixel per cell. pool(f) (optional): the same at f < 1 pixels per cell.
      setImage(c, pool) { img = c; pooled = pool || null; schedule(); },
      setMark(r, c) { if (r !== mark.r || c !== mark.c) { mark = { r, c }; schedule(); } },  // outline a row / column
      fit() { fit = true; layout(); },
      cell() { return cell; },
      zoom(next, ax, ay) {  // new cell size, keeping the matrix point under (ax, ay) in place
        ax = ax === undefined ? (vp.clientWidth - LW) / 2 : ax;
        ay = ay === undefined ? (vp.clientHeight - LH) / 2 : ay;
        const px = (ax + vp.scrollLeft) / cell, py = (ay + vp.scrollTop) / cell;
        cell = clamp(next, 0.25, 40); fit = false;
        layout();
        vp.scrollLeft = px * cell - ax; vp.scrollTop = py * cell - ay;
        o.onZoom(cell); schedule();
      },
      layout,
    };
    return api;
  }

  // ---------- TokenStrip: the sequence as inline tokens; hover/click report the index ----------
  function TokenStrip(host, tokens, o) {
    const box = el('div', 'al-strip');
    const spans = tokens.map((t, i) => {
      const s = el('span', 'al-tok', tokenText(t, false));
      s.dataset.i = i;
      box.appendChild(s);
      if (String(t).includes('\n')) box.appendChild(el('span', 'al-br'));
      return s;
    });
    host.appendChild(box);
    const idx = (e) => { const s = e.target.closest('.al-tok'); return s ? +s.dataset.i : null; };
    box.addEventListener('mouseover', (e) => { const i = idx(e); if (i !== null) o.onHover(i); });
    box.addEventListener('mouseleave', () => o.onHover(null));
    box.addEventListener('click', (e) => { const i = idx(e); if (i !== null) o.onClick(i); });
    let painted = false;
    return {
      // style(i) -> {k: lut index} | {masked: true}; focus (solid), pinned (dashed) and mark (dark) get outlines.
      paint(style, focus, pinned, mark) {
        for (let i = 0; i < spans.length; i++) {
          const s = spans[i], st = style ? style(i) : null;
          s.style.background = st && st.k !== undefined ? cssColor(st.k) : '';
          s.style.color = st && st.k !== undefined && st.k > 150 ? '#fff' : '';
          s.classList.toggle('al-masked', !!(st && st.masked));
          s.classList.toggle('al-focus', i === focus);
          s.classList.toggle('al-pinned', i === pinned);
          s.classList.toggle('al-mark', i === mark);
        }
        painted = !!style;
      },
      painted: () => painted,
    };
  }

  // ---------- small DOM builders ----------
  function segmented(label, items, onPick) {  // items: [{key, text, node?}]
    const g = el('div', 'al-ctl');
    g.appendChild(el('span', 'al-ctl-label', label));
    const seg = el('div', 'al-seg');
    const buttons = new Map();
    for (const it of items) {
      const b = el('button', 'al-btn');
      b.type = 'button';
      if (it.node) b.appendChild(it.node);
      b.appendChild(el('span', null, it.text));
      b.addEventListener('click', () => onPick(it.key));
      buttons.set(it.key, b);
      seg.appendChild(b);
    }
    g.appendChild(seg);
    return { el: g, set(key) { for (const [k, b] of buttons) b.classList.toggle('al-on', k === key); } };
  }
  function legend() {
    const g = el('div', 'al-legend'), bar = el('canvas', 'al-legend-bar'), ticks = el('div', 'al-legend-ticks');
    bar.width = 256; bar.height = 1;
    const c = bar.getContext('2d'), im = c.createImageData(256, 1);
    for (let k = 0; k < 256; k++) { for (let j = 0; j < 3; j++) im.data[4 * k + j] = LUT[3 * k + j]; im.data[4 * k + 3] = 255; }
    c.putImageData(im, 0, 0);
    g.append(bar, ticks);
    return { el: g, set(scale) { ticks.replaceChildren(...SCALES[scale].ticks().map((t) => el('span', null, t))); } };
  }

  // ---------- the attention view ----------
  function mountAttention(root, data) {
    const tokens = data.tokens.map(String), T = tokens.length, layers = data.layers;
    const st = { layer: 0, head: layers[0].n_heads > 1 ? 'all' : 0, scale: 'abs', dir: 'to',
                 hover: null, pinned: null, stripHead: 0 };
    const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
    const hash = new URLSearchParams(location.hash.slice(1));  // #layer=1&head=2&scale=log&dir=from
    if (hash.has('layer')) st.layer = clamp(parseInt(hash.get('layer'), 10) || 0, 0, layers.length - 1);
    if (hash.has('head')) st.head = hash.get('head') === 'all' ? 'all' : clamp(parseInt(hash.get('head'), 10) || 0, 0, layers[st.layer].n_heads - 1);
    if (own(SCALES, hash.get('scale'))) st.scale = hash.get('scale');
    if (hash.get('dir') === 'from') st.dir = 'from';
    if (st.head !== 'all') st.stripHead = st.head;
    const decoded = [];
    let cards = null;  // the all-heads grid's cards ({draw(markRow, markCol)}), null when one head is shown
    function layerData(L) {  // {vals: Float32Array [H*T*T], causal, max: [H]} decoded on first use
      if (decoded[L]) return decoded[L];
      const a = layers[L].attention, H = layers[L].n_heads, causal = a.layout === 'causal-lower';
      const packed = decodeF24(a.data, causal ? (H * T * (T + 1)) / 2 : H * T * T);
      let vals = packed;
      if (causal) {
        vals = new Float32Array(H * T * T);
        for (let h = 0, j = 0; h < H; h++)
          for (let d = 0; d < T; d++) { vals.set(packed.subarray(j, j + d + 1), (h * T + d) * T); j += d + 1; }
      }
      const max = [];
      for (let h = 0; h < H; h++) {
        let m = 0;
        for (let i = h * T * T; i < (h + 1) * T * T; i++) if (vals[i] > m && vals[i] !== Infinity) m = vals[i];
        max.push(m);
      }
      return (decoded[L] = { vals, causal, max });
    }
    const value = (L, h, d, s) => layerData(L).vals[(h * T + d) * T + s];
    const masked = (L, d, s) => layerData(L).causal && s > d;
    const lutK = (L, h, v) => lutIndex(SCALES[st.scale].t(v, layerData(L).max[h]));

    const images = new Map();  // "L:h:scale" -> canvas, T x T, one pixel per cell
    function headImage(L, h) {
      const key = L + ':' + h + ':' + st.scale;
      if (images.has(key)) return images.get(key);
      if (images.size > 64) images.clear();
      const c = document.createElement('canvas');
      c.width = c.height = T;
      const g = c.getContext('2d'), im = g.createImageData(T, T), px = im.data, D = layerData(L);
      const sc = SCALES[st.scale], m = D.max[h], off = h * T * T;
      for (let d = 0; d < T; d++)
        for (let s = 0; s < T; s++) {
          const i = d * T + s, p = 4 * i;
          if (D.causal && s > d) continue;  // transparent: the mask pattern shows through
          const v = D.vals[off + i];
          if (v !== v) { px[p] = NAN_RGB[0]; px[p + 1] = NAN_RGB[1]; px[p + 2] = NAN_RGB[2]; }
          else { const k = 3 * lutIndex(sc.t(v, m)); px[p] = LUT[k]; px[p + 1] = LUT[k + 1]; px[p + 2] = LUT[k + 2]; }
          px[p + 3] = 255;
        }
      g.putImageData(im, 0, 0);
      images.set(key, c);
      return c;
    }

    // w x w pixels for w < T: each pixel shows the largest value among the cells it covers (masked only if all
    // are), so a thin pattern such as a previous-token diagonal survives downscaling instead of averaging away.
    function pooledImage(L, h, w) {
      const key = L + ':' + h + ':' + st.scale + ':' + w;
      if (images.has(key)) return images.get(key);
      if (images.size > 64) images.clear();
      const D = layerData(L), sc = SCALES[st.scale], m = D.max[h], off = h * T * T;
      const best = new Float32Array(w * w).fill(-1), bin = new Int32Array(T);  // -1 masked, 0..1 colour, 2 NaN
      for (let i = 0; i < T; i++) bin[i] = Math.floor((i * w) / T);
      for (let d = 0; d < T; d++) {
        const n = D.causal ? d + 1 : T, row = off + d * T, p0 = bin[d] * w;
        for (let s = 0; s < n; s++) {
          const v = D.vals[row + s], t = v !== v ? 2 : sc.t(v, m), p = p0 + bin[s];
          if (t > best[p]) best[p] = t;
        }
      }
      const c = document.createElement('canvas');
      c.width = c.height = w;
      const g = c.getContext('2d'), im = g.createImageData(w, w), px = im.data;
      for (let p = 0; p < w * w; p++) {
        const t = best[p];
        if (t < 0) continue;
        const rgb = t > 1 ? NAN_RGB : [LUT[3 * lutIndex(t)], LUT[3 * lutIndex(t) + 1], LUT[3 * lutIndex(t) + 2]];
        px[4 * p] = rgb[0]; px[4 * p + 1] = rgb[1]; px[4 * p + 2] = rgb[2]; px[4 * p + 3] = 255;
      }
      g.putImageData(im, 0, 0);
      images.set(key, c);
      return c;
    }
    const imageAt = (L, h, w) => (w >= T ? headImage(L, h) : pooledImage(L, h, Math.max(1, Math.round(w))));

    // header
    const head = el('header', 'al-header');
    head.appendChild(el('div', 'al-kicker', 'attnlab \u00b7 attention'));
    head.appendChild(el('h1', 'al-title', data.title || 'attention'));
    const meta = el('div', 'al-meta');
    const chip = (k, v) => { const c = el('span', 'al-chip'); c.append(el('span', 'al-chip-k', k), el('span', 'al-chip-v', v)); meta.appendChild(c); };
    chip('tokens', T);
    chip('layers', layers.length);
    chip('heads', [...new Set(layers.map((l) => l.n_heads))].join('/'));
    for (const [k, v] of Object.entries(data.info || {})) chip(k, typeof v === 'string' ? v : JSON.stringify(v));
    head.appendChild(meta);
    root.appendChild(head);

    // controls
    const bar = el('div', 'al-controls');
    const layerSeg = segmented('Layer', layers.map((l, i) => ({ key: i, text: l.label })), (k) => { st.layer = k; refreshLayer(); });
    let headSeg = null;
    const headSlot = el('div', 'al-slot');
    const scaleSeg = segmented('Colour', Object.keys(SCALES).map((k) => ({ key: k, text: SCALES[k].name })), (k) => { st.scale = k; refresh(); });
    const leg = legend();
    const zoomBox = el('div', 'al-ctl');
    const zoom = el('input', 'al-zoom');
    Object.assign(zoom, { type: 'range', min: '-2', max: '5.3', step: '0.01', title: 'cell size (ctrl + wheel zooms too)' });
    const fitBtn = el('button', 'al-btn al-fit', 'Fit');
    fitBtn.type = 'button';
    zoomBox.append(el('span', 'al-ctl-label', 'Zoom'), zoom, fitBtn);
    bar.append(layerSeg.el, headSlot, scaleSeg.el, leg.el, zoomBox);
    root.appendChild(bar);

    // main panel: one head's heatmap, or the grid of all heads
    const panel = el('section', 'al-panel');
    const panelTitle = el('div', 'al-panel-title');
    const single = el('div', 'al-single'), grid = el('div', 'al-grid');
    panel.append(panelTitle, single, grid);
    root.appendChild(panel);
    const hm = Heatmap(single, {
      nRows: T, nCols: T, rowTitle: 'dest (query)', colTitle: 'src (key)',
      rowLabel: (i) => tokenText(tokens[i], true), colLabel: (j) => tokenText(tokens[j], true),
      onHover: (hit, e) => hoverCell(typeof st.head === 'number' ? st.head : 0, hit, e),
      onZoom: (cell) => { zoom.value = Math.log2(cell); },
    });
    zoom.addEventListener('input', () => hm.zoom(Math.pow(2, +zoom.value)));
    fitBtn.addEventListener('click', () => hm.fit());

    // tokens strip
    const stripSec = el('section', 'al-panel al-strip-panel');
    const stripHead = el('div', 'al-panel-title');
    const caption = el('div', 'al-caption');
    const dirSeg = segmented('', [{ key: 'to', text: 'attends to' }, { key: 'from', text: 'attended by' }], (k) => { st.dir = k; refresh(); });
    stripHead.append(el('span', null, 'Tokens'), dirSeg.el);
    stripSec.append(stripHead, caption);
    root.appendChild(stripSec);
    const strip = TokenStrip(stripSec, tokens, {
      onHover: (i) => { st.hover = i === null ? null : { t: i, mark: null }; paintStrip(); },
      onClick: (i) => { st.pinned = st.pinned === i ? null : i; paintStrip(); },
    });

    function hoverCell(h, hit, e) {
      st.stripHead = h;
      st.hover = hit ? { t: st.dir === 'to' ? hit.r : hit.c !== null ? hit.c : hit.r, mark: st.dir === 'to' ? hit.c : hit.r } : null;
      paintStrip();
      if (!hit || hit.c === null) { Tip.hide(); return; }
      const L = st.layer, m = masked(L, hit.r, hit.c), v = value(L, h, hit.r, hit.c);
      Tip.show(e.clientX, e.clientY, layers[L].label + ' \u00b7 head ' + h, [
        ['dest', hit.r + '  ' + quoted(tokens[hit.r])],
        ['src', hit.c + '  ' + quoted(tokens[hit.c])],
        m ? ['value', 'masked (causal)', 'al-tip-masked'] : ['value', fmtValue(v), 'al-tip-value'],
      ]);
    }

    let painted = '';  // what the strip and the marks show now; moving within one cell repaints nothing
    function paintStrip() {
      const L = st.layer, h = Math.min(st.stripHead, layers[L].n_heads - 1);
      const f = st.hover ? st.hover : st.pinned !== null ? { t: st.pinned, mark: null } : null;
      const key = [L, h, st.scale, st.dir, st.pinned, st.head, f && f.t, f && f.mark, !!cards].join();
      if (key === painted) return;
      painted = key;
      const markRow = f && st.dir === 'to' ? f.t : null, markCol = f && st.dir === 'from' ? f.t : null;
      hm.setMark(markRow, markCol);
      if (cards) for (const c of cards) c.draw(markRow, markCol);
      if (!f) {
        strip.paint(null, null, st.pinned, null);
        caption.textContent = 'Hover a token (or a heatmap cell) to colour the sequence by its attention; click a token to pin it.';
        return;
      }
      const t = f.t, to = st.dir === 'to';
      strip.paint((i) => {
        const d = to ? t : i, s = to ? i : t;
        return masked(L, d, s) ? { masked: true } : { k: lutK(L, h, value(L, h, d, s)) };
      }, t, st.pinned, f.mark);
      let best = -1, bv = -Infinity;
      for (let i = 0; i < T; i++) {
        const d = to ? t : i, s = to ? i : t;
        if (!masked(L, d, s) && value(L, h, d, s) > bv) { bv = value(L, h, d, s); best = i; }
      }
      caption.textContent = layers[L].label + ' \u00b7 head ' + h + ': ' + quoted(tokens[t]) + ' (' + t + ') ' +
        (to ? 'attends most to ' : 'is attended most by ') + quoted(tokens[best]) + ' (' + best + '): ' + fmtValue(bv) +
        (to ? '. Colours: its attention row.' : '. Colours: its attention column.');
    }

    function buildGrid() {
      const L = st.layer, H = layers[L].n_heads;
      grid.replaceChildren();
      const width = grid.clientWidth || panel.clientWidth - 32;
      const per = Math.max(1, Math.min(H, Math.floor((width + 16) / 236)));
      const size = clamp(Math.floor((width - 16 * (per - 1)) / per), 120, 360);
      cards = [];
      for (let h = 0; h < H; h++) {
        const card = el('div', 'al-card'), cv = el('canvas', 'al-card-cv');
        const dpr = window.devicePixelRatio || 1;
        cv.width = cv.height = Math.round(size * dpr);
        cv.style.width = cv.style.height = size + 'px';
        card.append(el('div', 'al-card-title', 'head ' + h), cv);
        const ctx = cv.getContext('2d'), pattern = maskPattern(ctx);
        const draw = (markRow, markCol) => {
          ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
          ctx.fillStyle = pattern; ctx.fillRect(0, 0, size, size);
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(imageAt(L, h, size * dpr), 0, 0, size, size);
          ctx.strokeStyle = COLOR.accent; ctx.lineWidth = 1.5;
          if (markRow !== null) ctx.strokeRect(0, (markRow * size) / T, size, Math.max(size / T, 1.5));
          if (markCol !== null) ctx.strokeRect((markCol * size) / T, 0, Math.max(size / T, 1.5), size);
        };
        const hit = (e) => {
          const b = cv.getBoundingClientRect();
          return { r: clamp(Math.floor(((e.clientY - b.top) / size) * T), 0, T - 1), c: clamp(Math.floor(((e.clientX - b.left) / size) * T), 0, T - 1) };
        };
        cv.addEventListener('mousemove', (e) => hoverCell(h, hit(e), e));
        cv.addEventListener('mouseleave', (e) => hoverCell(h, null, e));
        card.addEventListener('click', () => selectHead(h));
        draw(null, null);
        cards.push({ draw });
        grid.appendChild(card);
      }
    }

    function selectHead(h) { st.head = h; if (h !== 'all') st.stripHead = h; refresh(); }
    function buildHeadSeg() {
      const L = st.layer, items = [{ key: 'all', text: 'All' }];
      for (let h = 0; h < layers[L].n_heads; h++) {
        const thumb = el('canvas', 'al-thumb');
        thumb.width = thumb.height = 44;
        const g = thumb.getContext('2d');
        g.fillStyle = maskPattern(g); g.fillRect(0, 0, 44, 44);
        g.imageSmoothingEnabled = false;
        g.drawImage(imageAt(L, h, 44), 0, 0, 44, 44);
        items.push({ key: h, text: 'H' + h, node: thumb });
      }
      headSeg = segmented('Head', items, selectHead);
      headSlot.replaceChildren(headSeg.el);
    }
    function refreshLayer() {
      const H = layers[st.layer].n_heads;
      if (st.head !== 'all' && st.head >= H) st.head = H - 1;
      st.stripHead = Math.min(st.stripHead, H - 1);
      refresh();
    }
    function refresh() {
      const L = st.layer, all = st.head === 'all';
      Tip.hide();
      layerSeg.set(L); scaleSeg.set(st.scale); leg.set(st.scale); dirSeg.set(st.dir);
      buildHeadSeg();
      headSeg.set(st.head);
      zoomBox.style.display = all ? 'none' : '';
      single.style.display = all ? 'none' : '';
      grid.style.display = all ? '' : 'none';
      panelTitle.textContent = layers[L].label + (all ? ' \u00b7 all heads (click one to enlarge)' :
        ' \u00b7 head ' + st.head + ' \u00b7 rows: dest (query) position, columns: src (key) position');
      cards = null;
      painted = '';
      if (all) buildGrid();
      else { const h = st.head; hm.layout(); hm.setImage(headImage(L, h), (f) => pooledImage(L, h, Math.ceil(T * f))); }
      paintStrip();
      try { history.replaceState(null, '', '#layer=' + L + '&head=' + st.head + '&scale=' + st.scale + '&dir=' + st.dir); }
      catch (e) { /* some browsers refuse history changes on file: pages; the view still works */ }
    }
    window.addEventListener('resize', () => { if (st.head === 'all') { buildGrid(); painted = ''; paintStrip(); } });
    refresh();
  }

  // ---------- boot ----------
  const VIEWS = { attention: mountAttention };
  function boot() {
    const root = document.getElementById('attnlab-root');
    if (!root) return;
    root.replaceChildren();
    try {
      const name = root.dataset.view, view = VIEWS[name];
      if (!view) throw new Error('this page asks for view "' + name + '", which this viewer does not know');
      view(root, JSON.parse(document.getElementById('attnlab-data').textContent));
    } catch (err) {
      root.appendChild(el('div', 'al-error', 'attnlab viewer: ' + (err && err.message ? err.message : err)));
      throw err;
    }
  }
  window.attnlab = { views: VIEWS, decodeF24: decodeF24, Heatmap: Heatmap, TokenStrip: TokenStrip };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
