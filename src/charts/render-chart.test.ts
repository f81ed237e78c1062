import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chartOption, renderChartSvg } from './render-chart.js';

const rows = [['Month-to-month', 0.427], ['One year', 0.113], ['Two year', 0.028]];

test('a bar chart of a result becomes an SVG document with its labels', () => {
  const svg = renderChartSvg({ type: 'bar', title: '各合同类型的流失率', x: 'Contract', y: ['churn_rate'], columns: ['Contract', 'churn_rate'], rows });
  assert.ok(svg !== undefined);
  assert.match(svg, /^<svg[^>]+width="800"/);
  assert.match(svg, /各合同类型的流失率/);
  assert.match(svg, /Month-to-month/);
  assert.match(svg, /Noto Sans CJK/);
  assert.doesNotMatch(svg, /="[^"]*"[^\s/>]/, 'every attribute is closed where it should be');
  assert.equal((svg.match(/<path d="M/g) ?? []).length >= 3, true, 'three bars at least');
});

test('lines, pies, scatters and series split by a column', () => {
  assert.match(renderChartSvg({ type: 'line', title: 'by month', columns: ['month', 'bills'], rows: [['2026-01', 3], ['2026-02', 5]] }) ?? '', /2026-02/);
  assert.match(renderChartSvg({ type: 'pie', title: 'share', columns: ['gender', 'share'], rows: [['Female', 0.5], ['Male', 0.5]] }) ?? '', /Female/);
  assert.ok(renderChartSvg({ type: 'scatter', title: 'tenure vs charges', columns: ['correlation'], rows: [[0.25]], points: [[1, 20], [30, 80]] }) !== undefined);
  const option = chartOption({ type: 'bar', title: 't', x: 'contract', y: ['rate'], series: 'gender', columns: ['contract', 'gender', 'rate'], rows: [['a', 'F', 1], ['a', 'M', 2], ['b', 'F', 3]] }) as { series: { name: string; data: (number | null)[] }[] };
  assert.deepEqual(option.series.map((series) => [series.name, series.data]), [['F', [1, 3]], ['M', [2, null]]]);
});

test('tables, single numbers and unknown columns are not pictures', () => {
  assert.equal(renderChartSvg({ type: 'table', title: 't', columns: ['a'], rows: [[1]] }), undefined);
  assert.equal(renderChartSvg({ type: 'number', title: 't', columns: ['a'], rows: [[1]] }), undefined);
  assert.equal(renderChartSvg({ type: 'bar', title: 't', x: 'nope', columns: ['a', 'b'], rows: [[1, 2]] }), undefined);
});
