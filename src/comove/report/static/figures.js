// Draw comove figures from their compact payload (comove/report/payload.py): arrays are
// stored once and referenced as {"$ref": id}; numbers are base64 typed arrays, decoded
// here once per array. Shared by the HTML report and the dashboard.
"use strict";

window.comoveFigures = (function () {
  const TYPES = { f4: Float32Array, f8: Float64Array, i4: Int32Array, u1: Uint8Array };

  function decode(entry) {
    if (!entry || typeof entry !== "object" || entry.bdata === undefined) return entry;
    const text = atob(entry.bdata);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const flat = new TYPES[entry.dtype](bytes.buffer);
    if (!entry.shape) return flat;
    const [rows, cols] = entry.shape.split(",").map(Number);
    const out = [];
    for (let r = 0; r < rows; r++) out.push(flat.subarray(r * cols, (r + 1) * cols));
    return out;
  }

  function resolve(payload) {
    const arrays = {};
    for (const id of Object.keys(payload.arrays)) arrays[id] = decode(payload.arrays[id]);
    arrays.template = payload.template;
    const walk = (node) => {
      if (Array.isArray(node)) return node.map(walk);
      if (node === null || typeof node !== "object") return node;
      const keys = Object.keys(node);
      if (keys.length === 1 && keys[0] === "$ref") return arrays[node.$ref];
      const out = {};
      for (const key of keys) out[key] = walk(node[key]);
      return out;
    };
    const figures = {};
    for (const key of Object.keys(payload.figures)) {
      const entry = payload.figures[key];
      figures[key] = { title: entry.title, figure: walk(entry.figure) };
    }
    return figures;
  }

  // Draw every figure of a page's embedded payload into the element with its key as id.
  function drawPage(dataElement) {
    const figures = resolve(JSON.parse(dataElement.textContent));
    for (const id of Object.keys(figures)) {
      const target = document.getElementById(id);
      if (!target) continue;
      const figure = figures[id].figure;
      window.Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
    }
  }

  return { resolve: resolve, drawPage: drawPage };
})();
