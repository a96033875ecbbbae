// The live page of a scorestream node: submits a request (POST /v1/samples), follows its events over a WebSocket
// (GET /v1/samples/{id}/events) and draws every preview, then the result, as a 2-D scatter or, for image models, a grid of images. No build step, no
// dependencies. Hooks for tests: body[data-state], #status[data-state], #previews[data-count], #request-id.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const canvas = $('canvas');
  const ctx = canvas.getContext('2d');
  const MIN_HALF_WIDTH = 6; // gmm8's modes sit at radius 4 with std 0.5
  // The few-step solvers' own step counts (the node's defaults when a request names none); the others start at 1000.
  const FEW_STEP_DEFAULTS = { 'ddim': 50, 'dpmpp-2m': 20, 'dpmpp-2m-sde': 50, 'edm': 18 };
  let socket = null;
  let requestId = null;
  let previewsDrawn = 0;
  let sampleShape = null;
  let halfWidth = MIN_HALF_WIDTH;
  let finished = true;

  function setState(state, text) {
    document.body.dataset.state = state;
    $('status').dataset.state = state;
    $('status').textContent = text || state;
    const running = state === 'submitting' || state === 'queued' || state === 'running' || state === 'cancelling';
    $('generate').disabled = running;
    $('cancel').disabled = !running || requestId === null;
  }

  function showError(message) {
    $('error').textContent = message;
    $('error').hidden = false;
  }

  function authHeaders(extra) {
    const headers = Object.assign({}, extra);
    const token = $('token').value.trim();
    if (token) headers.Authorization = 'Bearer ' + token;
    return headers;
  }

  function describeError(status, body) {
    if (body && body.error) {
      return status + ' ' + body.error + (body.field ? ' (field ' + body.field + ')' : '') + ': ' + body.message;
    }
    return 'HTTP ' + status;
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (e) {
      return null;
    }
  }

  // ---- Drawing ----

  function drawAxes() {
    ctx.fillStyle = '#fcfcfb';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = '#e5e7eb';
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let v = -Math.floor(halfWidth); v <= halfWidth; v += 2) {
      const p = toCanvas(v, v);
      ctx.moveTo(p[0] + 0.5, 0);
      ctx.lineTo(p[0] + 0.5, canvas.height);
      ctx.moveTo(0, p[1] + 0.5);
      ctx.lineTo(canvas.width, p[1] + 0.5);
    }
    ctx.stroke();
    ctx.strokeStyle = '#c7cad1';
    ctx.beginPath();
    const o = toCanvas(0, 0);
    ctx.moveTo(o[0] + 0.5, 0);
    ctx.lineTo(o[0] + 0.5, canvas.height);
    ctx.moveTo(0, o[1] + 0.5);
    ctx.lineTo(canvas.width, o[1] + 0.5);
    ctx.stroke();
  }

  function toCanvas(x, y) {
    return [(x + halfWidth) / (2 * halfWidth) * canvas.width, (halfWidth - y) / (2 * halfWidth) * canvas.height];
  }

  /**
   * Draws rows of C x H x W pixels (the data scaled to [-1, 1]) as a grid of images, grey or RGB, one per chain;
   * null rows (chains that have not reported yet) stay blank.
   */
  function drawGrid(rows, shape) {
    const c = shape[0], h = shape[1], w = shape[2];
    const n = rows.length;
    const cols = Math.ceil(Math.sqrt(n));
    const cell = Math.floor(canvas.width / cols);
    const zoom = Math.max(1, Math.floor((cell - 2) / Math.max(h, w)));
    ctx.fillStyle = '#808080';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const img = ctx.createImageData(w, h);
    const tile = document.createElement('canvas');
    tile.width = w;
    tile.height = h;
    const tctx = tile.getContext('2d');
    ctx.imageSmoothingEnabled = false;
    const byte = (v) => Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
    for (let k = 0; k < n; k++) {
      const r = rows[k];
      if (!r) continue;
      for (let p = 0; p < h * w; p++) {
        const g = byte(r[p]);
        img.data[4 * p] = c === 3 ? byte(r[p]) : g;
        img.data[4 * p + 1] = c === 3 ? byte(r[h * w + p]) : g;
        img.data[4 * p + 2] = c === 3 ? byte(r[2 * h * w + p]) : g;
        img.data[4 * p + 3] = 255;
      }
      tctx.putImageData(img, 0, 0);
      ctx.drawImage(tile, (k % cols) * cell + 1, Math.floor(k / cols) * cell + 1, w * zoom, h * zoom);
    }
  }

  /**
   * The rows of an 8-bit preview: base64 bytes q in 0..254 for lo + q (hi - lo) / 254, 255 for a chain that has not
   * reported yet (a null row).
   */
  function decodePixels(e) {
    const bytes = Uint8Array.from(atob(e.pixels), (ch) => ch.charCodeAt(0));
    const step = (e.hi - e.lo) / 254;
    const rows = [];
    for (let i = 0; i * e.dim < bytes.length; i++) {
      if (bytes[i * e.dim] === 255) {
        rows.push(null);
        continue;
      }
      const r = new Float64Array(e.dim);
      for (let k = 0; k < e.dim; k++) r[k] = e.lo + bytes[i * e.dim + k] * step;
      rows.push(r);
    }
    return rows;
  }

    /** Draws samples the way the model's shape asks: a grid of images, or a scatter of the first two dims. */
  function draw(rows, final) {
    if (sampleShape && sampleShape.length === 3) drawGrid(rows, sampleShape);
    else drawScatter(rows, final);
  }

  /** Draws rows [[x, y, ...], ...] (null rows: chains that have not reported yet); only the first two dims. */
  function drawScatter(rows, final) {
    let extent = 0;
    for (const r of rows) {
      if (r && Number.isFinite(r[0]) && Number.isFinite(r[1])) extent = Math.max(extent, Math.abs(r[0]), Math.abs(r[1]));
    }
    // The view only widens during a request, so the picture does not jump back and forth.
    halfWidth = Math.max(halfWidth, Math.min(1e3, extent * 1.05));
    drawAxes();
    ctx.fillStyle = final ? 'rgba(217, 72, 15, 0.75)' : 'rgba(37, 99, 235, 0.55)';
    const radius = final ? 2.2 : 1.8;
    for (const r of rows) {
      if (!r || !Number.isFinite(r[0]) || !Number.isFinite(r[1])) continue;
      const p = toCanvas(r[0], r.length > 1 ? r[1] : 0);
      ctx.beginPath();
      ctx.arc(p[0], p[1], radius, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  // ---- Events ----

  function onEvent(e) {
    switch (e.type) {
      case 'accepted':
        $('queue').textContent = e.queuePosition === 0 ? '0 (running)' : String(e.queuePosition);
        setState(e.queuePosition === 0 ? 'running' : 'queued', e.queuePosition === 0 ? 'running' : 'queued');
        break;
      case 'preview':
        if (document.body.dataset.state === 'queued') setState('running');
        draw(e.pixels ? decodePixels(e) : e.samples, false);
        previewsDrawn++;
        document.body.dataset.previewForm = e.pixels ? '8bit' : 'float';
        $('previews').textContent = String(previewsDrawn);
        $('previews').dataset.count = String(previewsDrawn);
        $('step').textContent = e.step + ' / ' + e.totalSteps;
        $('progress').max = Math.max(1, e.totalSteps);
        $('progress').value = e.step;
        break;
      case 'completed':
        finished = true;
        draw(e.samples, true);
        $('progress').value = $('progress').max;
        $('result').textContent = e.count + ' samples in ' + e.latencyMs.toFixed(0) + ' ms, model version '
            + e.modelVersions.join(', ');
        setState('completed');
        break;
      case 'failed':
        finished = true;
        setState('failed');
        showError(e.error + ': ' + e.message);
        break;
      case 'cancelled':
        finished = true;
        setState('cancelled');
        $('result').textContent = 'cancelled: ' + e.reason;
        break;
      default:
        break;
    }
  }

  function follow(eventsPath) {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const token = $('token').value.trim();
    // Image previews travel as one byte a pixel (?preview=8bit): a 16-digit preview is about 17 KB, not 200.
    const query = [];
    if (sampleShape && sampleShape.length === 3) query.push('preview=8bit');
    if (token) query.push('access_token=' + encodeURIComponent(token));
    const url = scheme + location.host + eventsPath + (query.length ? '?' + query.join('&') : '');
    socket = new WebSocket(url);
    socket.onmessage = (m) => {
      try {
        onEvent(JSON.parse(m.data));
      } catch (err) {
        showError('bad event: ' + err);
      }
    };
    socket.onclose = (c) => {
      socket = null;
      if (!finished) {
        setState('failed', 'disconnected');
        showError('the event stream closed before the request ended (WebSocket code ' + c.code + ')');
      }
    };
  }

  // ---- Actions ----

  async function generate(ev) {
    ev.preventDefault();
    if (socket) socket.close();
    requestId = null;
    previewsDrawn = 0;
    finished = false;
    halfWidth = MIN_HALF_WIDTH;
    $('error').hidden = true;
    $('previews').textContent = '0';
    $('previews').dataset.count = '0';
    $('request-id').textContent = '–';
    $('queue').textContent = '–';
    $('result').textContent = '–';
    $('step').textContent = '0 / 0';
    $('progress').value = 0;
    drawAxes();
    setState('submitting');

    const sampler = $('sampler').value;
    const steps = Number($('steps').value);
    const body = { count: Number($('count').value), sampler: sampler };
    if (models.length > 1 && $('model').value !== models[0].name) body.model = $('model').value;
    if ($('seed').value.trim() !== '') body.seed = Number($('seed').value);
    const labels = $('labels').value.trim();
    if (labels !== '') {
      body.labels = labels.split(/[\s,]+/).filter((x) => x !== '').map(Number);
      body.guidance = Number($('guidance').value);
    }
    const kept = inpaintingBody();
    if (kept) {
      body.known = kept.known;
      body.mask = kept.mask;
    }
    window.lastRequestBody = body;
    if (sampler === 'pc') {
      body.steps = steps;
      body.previewEvery = Math.max(1, Math.round(steps / 100));
    } else if (sampler === 'ald') {
      body.levels = 10; // steps is the total over the noise ladder
      body.steps = Math.max(1, Math.round(steps / 10));
      body.previewEvery = Math.max(1, Math.round(steps / 100));
    } else if (sampler in FEW_STEP_DEFAULTS) {
      body.steps = steps;
      body.previewEvery = 1; // few steps: show each
    } else {
      body.previewEvery = 1; // adaptive RK45 takes few steps; show each
    }

    let response;
    try {
      response = await fetch('/v1/samples', {
        method: 'POST', headers: authHeaders({ 'Content-Type': 'application/json' }), body: JSON.stringify(body)
      });
    } catch (err) {
      finished = true;
      setState('failed', 'unreachable');
      showError('the node did not answer: ' + err);
      return;
    }
    const answer = await readJson(response);
    if (response.status !== 202 || !answer) {
      finished = true;
      setState('failed', 'refused');
      let text = describeError(response.status, answer);
      const retry = response.headers.get('Retry-After');
      if (retry) text += ' (retry after ' + retry + ' s)';
      showError(text);
      return;
    }
    requestId = answer.id;
    $('request-id').textContent = answer.id;
    $('queue').textContent = answer.queuePosition === 0 ? '0 (running)' : String(answer.queuePosition);
    setState(answer.queuePosition === 0 ? 'running' : 'queued');
    follow(answer.events);
  }

  async function cancel() {
    if (!requestId) return;
    setState('cancelling', 'cancelling…');
    const response = await fetch('/v1/samples/' + encodeURIComponent(requestId), {
      method: 'DELETE', headers: authHeaders({})
    });
    if (response.status !== 202 && response.status !== 409) {
      showError(describeError(response.status, await readJson(response)));
    }
  }

  $('controls').addEventListener('submit', generate);
  $('sampler').addEventListener('change', () => {
    const kind = $('sampler').value;
    $('steps').value = kind in FEW_STEP_DEFAULTS ? FEW_STEP_DEFAULTS[kind] : 1000;
  });
  $('cancel').addEventListener('click', cancel);
  drawAxes();
  setState('idle');
  // The served models' sample shapes and classes: images get a grid, conditional models the label fields; a node
  // serving several models offers a choice (the first is its primary one, which requests without `model` get).
  let models = [];
  function applyModel(m) {
    sampleShape = m.sampleShape || null;
    const conditional = m.classes > 0;
    $('conditioning').hidden = !conditional;
    if (conditional) $('labels').placeholder = '0..' + (m.classes - 1) + ', e.g. 0 1 2 (blank: none)';
    else $('labels').value = '';
    if (sampleShape && sampleShape.length === 3) {
      $('count').value = 16;
      $('sampler').value = 'ddim';
      $('steps').value = FEW_STEP_DEFAULTS['ddim'];
      canvas.setAttribute('aria-label', 'grid of the current samples');
      drawGrid([], sampleShape);
    } else {
      $('count').value = 1024;
      $('sampler').value = 'pc';
      $('steps').value = 1000;
      canvas.setAttribute('aria-label', 'scatter of the current samples');
      drawAxes();
    }
    document.body.dataset.shape = sampleShape ? sampleShape.join('x') : '';
    document.body.dataset.model = m.name || '';
    $('inpainting').hidden = !(sampleShape && sampleShape.length === 3);
    if (!$('inpainting').hidden) clearPad();
  }

  // ---- Inpainting: a pad of H x W pixels in the data's [-1, 1] scale (black -1, white 1), drawn or uploaded ----

  const pad = $('pad');
  const padCtx = pad.getContext('2d');
  let padPixels = null;

  function clearPad() {
    const h = sampleShape[1], w = sampleShape[2];
    padPixels = new Float64Array(h * w).fill(-1);
    pad.width = w;
    pad.height = h;
    paintPad();
  }

  function paintPad() {
    const h = sampleShape[1], w = sampleShape[2];
    const img = padCtx.createImageData(w, h);
    const keep = $('keep').value;
    for (let p = 0; p < h * w; p++) {
      const g = Math.round((padPixels[p] + 1) * 127.5);
      const kept = keep !== 'none' && keptPixel(keep, Math.floor(p / w), p % w, h, w);
      img.data[4 * p] = g;
      img.data[4 * p + 1] = kept ? Math.min(255, g + 40) : g;   // the kept part tinted
      img.data[4 * p + 2] = g;
      img.data[4 * p + 3] = 255;
    }
    padCtx.putImageData(img, 0, 0);
  }

  function keptPixel(keep, y, x, h, w) {
    if (keep === 'top') return y < h / 2;
    if (keep === 'bottom') return y >= h / 2;
    if (keep === 'left') return x < w / 2;
    return x >= w / 2;
  }

  /** A soft round brush of radius 1.5 pixels at pad pixel (py, px). */
  function brush(py, px) {
    const h = sampleShape[1], w = sampleShape[2];
    for (let y = Math.floor(py - 2); y <= py + 2; y++) {
      for (let x = Math.floor(px - 2); x <= px + 2; x++) {
        if (y < 0 || x < 0 || y >= h || x >= w) continue;
        const d = Math.hypot(y + 0.5 - py, x + 0.5 - px);
        const v = d <= 1 ? 1 : d <= 2 ? 1 - 2 * (d - 1) : -1;
        padPixels[y * w + x] = Math.max(padPixels[y * w + x], v);
      }
    }
  }

  let drawing = false;
  function padPoint(ev) {
    const r = pad.getBoundingClientRect();
    return [(ev.clientY - r.top) / r.height * sampleShape[1], (ev.clientX - r.left) / r.width * sampleShape[2]];
  }
  pad.addEventListener('pointerdown', (ev) => {
    if (!padPixels) return;
    drawing = true;
    pad.setPointerCapture(ev.pointerId);
    const [y, x] = padPoint(ev);
    brush(y, x);
    paintPad();
  });
  pad.addEventListener('pointermove', (ev) => {
    if (!drawing) return;
    const [y, x] = padPoint(ev);
    brush(y, x);
    paintPad();
  });
  pad.addEventListener('pointerup', () => { drawing = false; });
  pad.addEventListener('pointercancel', () => { drawing = false; });
  pad.addEventListener('lostpointercapture', () => { drawing = false; });
  $('keep').addEventListener('change', () => { if (padPixels) paintPad(); });
  $('clear-pad').addEventListener('click', () => { if (sampleShape) clearPad(); });
  $('upload').addEventListener('change', () => {
    const file = $('upload').files[0];
    if (!file || !sampleShape) return;
    const image = new Image();
    image.onload = () => {
      URL.revokeObjectURL(image.src);
      if (!sampleShape || sampleShape.length !== 3 || !padPixels) return;   // the model changed meanwhile
      const h = sampleShape[1], w = sampleShape[2];
      const off = document.createElement('canvas');
      off.width = w;
      off.height = h;
      const octx = off.getContext('2d');
      octx.drawImage(image, 0, 0, w, h);
      const d = octx.getImageData(0, 0, w, h).data;
      for (let p = 0; p < h * w; p++) {
        const lum = (0.299 * d[4 * p] + 0.587 * d[4 * p + 1] + 0.114 * d[4 * p + 2]) / 255;
        padPixels[p] = 2 * lum - 1;
      }
      paintPad();
    };
    image.src = URL.createObjectURL(file);
  });

  /** The request's known values and mask (every channel the pad's grey), or null when nothing is kept. */
  function inpaintingBody() {
    if (!sampleShape || sampleShape.length !== 3 || !padPixels || $('keep').value === 'none') return null;
    const c = sampleShape[0], h = sampleShape[1], w = sampleShape[2];
    const keep = $('keep').value;
    const known = [], mask = [];
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) {
        known.push(Math.round(padPixels[p] * 1e4) / 1e4);   // 4 decimals: the body stays small
        mask.push(keptPixel(keep, Math.floor(p / w), p % w, h, w) ? 1 : 0);
      }
    }
    return { known: known, mask: mask };
  }
  $('model').addEventListener('change', () => {
    const m = models.find((x) => x.name === $('model').value);
    if (m) applyModel(m);
  });
  fetch('/v1/status', { headers: authHeaders({}) }).then(readJson).then((st) => {
    if (!st) return;
    models = st.models && st.models.length ? st.models : [{ name: '', sampleShape: st.sampleShape, classes: st.classes }];
    const select = $('model');
    for (const m of models) {
      const option = document.createElement('option');
      option.value = m.name;
      const shape = m.sampleShape ? m.sampleShape.join('x') : '?';
      option.textContent = m.name + ' (' + shape + (m.classes > 0 ? ', ' + m.classes + ' classes' : '') + ')';
      select.appendChild(option);
    }
    $('model-field').hidden = models.length < 2;
    applyModel(models[0]);
  }).catch(() => {}).finally(() => {
    if (document.body.dataset.shape === undefined) document.body.dataset.shape = '';
  });
})();
