// An SVG chart of throughput against table size, drawn from the benchmark figures
// themselves: a figure joins the "flows" panel when it carries `extra.flows` (or its
// name says "-<N>-flows"), the "rules" panel likewise with `extra.rules` / "-<N>-rules".
// Figures of one scenario at several sizes form a series, named after the figure with
// the number taken out ("engine/established-N-flows"). No chart library: plain SVG text.

import type { BenchFigure } from "./harness.ts";

export interface ChartPoint {
  x: number;
  y: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

export interface ChartPanel {
  title: string;
  xLabel: string;
  series: ChartSeries[];
}

/**
 * Figures that are not packet throughput (building tables, compiling policies) would
 * share the packets/s axis with lookups a million times faster: left out, as is any
 * figure with `extra.chart: "no"`.
 */
const NOT_PACKET_THROUGHPUT = /^compile\/|\/build-/;

function charted(figure: BenchFigure): boolean {
  return figure.extra?.chart !== "no" && !NOT_PACKET_THROUGHPUT.test(figure.name) && figure.opsPerSec > 0;
}

/** The size a figure was measured at for `dimension` ("flows" or "rules"), or null. */
function sizeOf(figure: BenchFigure, dimension: string): number | null {
  const fromExtra = figure.extra?.[dimension];
  if (typeof fromExtra === "number" && fromExtra > 0) return fromExtra;
  if (typeof fromExtra === "string" && Number(fromExtra) > 0) return Number(fromExtra);
  const fromName = new RegExp(`-(\\d+)-${dimension}\\b`).exec(figure.name);
  return fromName ? Number(fromName[1]) : null;
}

/** Group the figures that vary along `dimension` into series, points sorted by size. */
export function seriesAlong(figures: readonly BenchFigure[], dimension: string): ChartSeries[] {
  const byName = new Map<string, ChartPoint[]>();
  for (const figure of figures) {
    const size = sizeOf(figure, dimension);
    if (size === null || !charted(figure)) continue;
    const name = figure.name.replace(new RegExp(`-\\d+-${dimension}\\b`), `-N-${dimension}`);
    const points = byName.get(name) ?? [];
    points.push({ x: size, y: figure.opsPerSec });
    byName.set(name, points);
  }
  return [...byName].map(([name, points]) => ({ name, points: points.sort((a, b) => a.x - b.x) }));
}

const PANEL_WIDTH = 460;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 70, right: 20, top: 34, bottom: 46 };
const LEGEND_LINE = 16;
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** "12.3M", "450k": axis labels short enough to fit. */
export function shortNumber(value: number): string {
  if (value >= 1e9) return `${+(value / 1e9).toPrecision(3)}G`;
  if (value >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toPrecision(3)}k`;
  return `${+value.toPrecision(3)}`;
}

/** One panel: log-scale x (sizes span decades), linear y from 0 (so ratios read true). */
function drawPanel(panel: ChartPanel, left: number): string {
  const plotW = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x0 = left + MARGIN.left;
  const y0 = MARGIN.top;
  const parts: string[] = [];
  parts.push(`<text x="${left + PANEL_WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(panel.title)}</text>`);
  const points = panel.series.flatMap((s) => s.points);
  if (points.length === 0) {
    parts.push(`<text x="${left + PANEL_WIDTH / 2}" y="${y0 + plotH / 2}" text-anchor="middle" fill="#888">no figures</text>`);
    return parts.join("\n");
  }
  const minX = Math.min(...points.map((p) => p.x));
  const maxX = Math.max(...points.map((p) => p.x));
  const logMin = Math.floor(Math.log10(minX));
  const logMax = Math.max(Math.ceil(Math.log10(maxX)), logMin + 1);
  const maxY = niceCeiling(Math.max(...points.map((p) => p.y)));
  const px = (x: number): number => x0 + ((Math.log10(x) - logMin) / (logMax - logMin)) * plotW;
  const py = (y: number): number => y0 + plotH - (y / maxY) * plotH;

  parts.push(`<rect x="${x0}" y="${y0}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (let e = logMin; e <= logMax; e++) {
    const x = px(10 ** e);
    parts.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${y0 + plotH + 16}" text-anchor="middle" font-size="11">${shortNumber(10 ** e)}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const value = (maxY * i) / 4;
    const y = py(value);
    parts.push(`<line x1="${x0}" y1="${y}" x2="${x0 + plotW}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end" font-size="11">${shortNumber(value)}</text>`);
  }
  parts.push(`<text x="${x0 + plotW / 2}" y="${y0 + plotH + 36}" text-anchor="middle" font-size="12">${escapeXml(panel.xLabel)} (log scale)</text>`);
  parts.push(`<text x="${left + 16}" y="${y0 + plotH / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 ${left + 16} ${y0 + plotH / 2})">packets/s</text>`);

  panel.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const path = series.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ");
    parts.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const p of series.points) {
      parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${colour}"><title>${escapeXml(series.name)}: ${shortNumber(p.x)} → ${shortNumber(p.y)} packets/s</title></circle>`);
    }
    const legendY = PANEL_HEIGHT + 4 + i * LEGEND_LINE;
    parts.push(`<rect x="${x0}" y="${legendY}" width="10" height="10" fill="${colour}"/>`);
    parts.push(`<text x="${x0 + 16}" y="${legendY + 9}" font-size="11">${escapeXml(series.name)}</text>`);
  });
  return parts.join("\n");
}

/** The smallest 1, 2 or 5 times a power of ten at or above `value`. */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** The two panels side by side, legends underneath. */
export function throughputChart(figures: readonly BenchFigure[]): string {
  const panels: ChartPanel[] = [
    { title: "Throughput against tracked flows", xLabel: "flows", series: seriesAlong(figures, "flows") },
    { title: "Throughput against rules", xLabel: "rules", series: seriesAlong(figures, "rules") },
  ];
  const legendRows = Math.max(1, ...panels.map((p) => p.series.length));
  const width = PANEL_WIDTH * panels.length;
  const height = PANEL_HEIGHT + 10 + legendRows * LEGEND_LINE;
  const body = panels.map((panel, i) => drawPanel(panel, i * PANEL_WIDTH)).join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    body,
    `</svg>`,
    "",
  ].join("\n");
}
