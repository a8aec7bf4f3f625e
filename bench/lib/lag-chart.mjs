/**
 * The incremental scenario's lag over time as a small self-contained SVG (plain string building, no
 * dependency): x = seconds since the load started, y = lag in ms (left axis, line) — the load window shaded.
 */

const WIDTH = 720;
const HEIGHT = 260;
const PAD = { left: 56, right: 16, top: 28, bottom: 40 };

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function escapeXml(text) {
  return String(text).replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c],
  );
}

/**
 * @param {Array<[number, number, number]>} samples `[atMs, lagMs, lagBytes]`
 * @param {{ title: string, loadSeconds: number }} info
 * @returns {string} SVG document
 */
export function lagChartSvg(samples, { title, loadSeconds }) {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const maxX = niceMax(Math.max(loadSeconds, ...samples.map(([at]) => at / 1000)));
  const maxY = niceMax(Math.max(1, ...samples.map(([, lag]) => lag)));
  const x = (seconds) => round(PAD.left + (seconds / maxX) * plotW);
  const y = (ms) => round(PAD.top + plotH - (ms / maxY) * plotH);
  const parts = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
    `<rect x="${x(0)}" y="${PAD.top}" width="${round(x(loadSeconds) - x(0))}" height="${plotH}" fill="#eef3fb"/>`,
  );
  for (let i = 0; i <= 5; i++) {
    const ms = (maxY / 5) * i;
    parts.push(
      `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/>`,
      `<text x="${PAD.left - 6}" y="${y(ms) + 4}" text-anchor="end">${round(ms)}</text>`,
    );
    const seconds = (maxX / 5) * i;
    parts.push(
      `<text x="${x(seconds)}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle">${round(seconds)}</text>`,
    );
  }
  parts.push(
    `<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle">seconds since the load started (shaded: load running)</text>`,
    `<text transform="translate(14 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">lag (ms)</text>`,
    `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#333"/>`,
    `<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#333"/>`,
  );
  const points = samples.map(([at, lag]) => `${x(at / 1000)},${y(lag)}`).join(' ');
  parts.push(`<polyline fill="none" stroke="#1f5fbf" stroke-width="1.5" points="${points}"/>`, '</svg>');
  return `${parts.join('\n')}\n`;
}

function round(value) {
  return Math.round(value * 10) / 10;
}
