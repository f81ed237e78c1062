/**
 * A chart spec drawn with echarts: bar, line, pie, scatter and histogram from `{type, title, x, y,
 * series, data: {columns, rows}}`, a single value as a big number, nothing for `table`. Only the
 * echarts parts used here are imported, to keep the bundle small.
 */
import { useEffect, useMemo, useRef } from 'react';
import { BarChart, LineChart, PieChart, ScatterChart, type BarSeriesOption, type LineSeriesOption, type PieSeriesOption, type ScatterSeriesOption } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, type GridComponentOption, type LegendComponentOption, type TooltipComponentOption } from 'echarts/components';
import { init, use, type ComposeOption } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { ChartSpec } from './api-client';
import { formatValue } from './data-table';

use([BarChart, LineChart, PieChart, ScatterChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

type ChartOption = ComposeOption<
  BarSeriesOption | LineSeriesOption | PieSeriesOption | ScatterSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>;

/** A cell as a number for plotting; null (a gap) when it is empty or not a number. */
function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

interface Columns {
  x: number;
  y: number[];
  series: number;
}

/** Where the spec's columns are; without a named y, every numeric column other than x and series. */
function locateColumns(spec: ChartSpec, columns: string[], rows: unknown[][]): Columns {
  const x = spec.x === undefined ? 0 : Math.max(0, columns.indexOf(spec.x));
  const series = spec.series === undefined ? -1 : columns.indexOf(spec.series);
  let y = (spec.y ?? []).map((name) => columns.indexOf(name)).filter((index) => index >= 0);
  if (y.length === 0) {
    y = columns.map((_, index) => index).filter((index) => index !== x && index !== series && rows.some((row) => toNumber(row[index]) !== null));
  }
  return { x, y, series };
}

function distinct(values: unknown[]): string[] {
  return [...new Set(values.map((value) => String(value ?? '')))];
}

/** The echarts option for a spec, or null when there is nothing to plot. */
function chartOption(spec: ChartSpec): ChartOption | null {
  const columns = spec.data?.columns ?? [];
  const rows = spec.data?.rows ?? [];
  const { x, y, series } = locateColumns(spec, columns, rows);
  const grid: GridComponentOption = { left: 12, right: 20, top: 36, bottom: 12 };
  if (spec.type === 'scatter') {
    const points = spec.points ?? rows.map((row) => [toNumber(row[x]), toNumber(row[y[0] ?? 1])] as [number | null, number | null]);
    if (points.length === 0) return null;
    return {
      grid,
      tooltip: { trigger: 'item' },
      xAxis: { type: 'value', scale: true, name: spec.x ?? '' },
      yAxis: { type: 'value', scale: true, name: spec.y?.[0] ?? '' },
      series: [{ type: 'scatter', symbolSize: 7, data: points.filter((point): point is [number, number] => point[0] !== null && point[1] !== null) }],
    };
  }
  const first = y[0];
  if (first === undefined || rows.length === 0) return null;
  if (spec.type === 'pie') {
    return {
      tooltip: { trigger: 'item', valueFormatter: (value) => formatValue(value) },
      legend: { type: 'scroll', bottom: 0 },
      series: [{ type: 'pie', radius: ['35%', '65%'], center: ['50%', '46%'], data: rows.map((row) => ({ name: String(row[x] ?? ''), value: toNumber(row[first]) ?? 0 })) }],
    };
  }
  const categories = distinct(rows.map((row) => row[x]));
  const kind = spec.type === 'line' ? 'line' : 'bar';
  const styled = (name: string, data: (number | null)[]): BarSeriesOption | LineSeriesOption =>
    kind === 'line'
      ? { type: 'line', name, data, showSymbol: data.length <= 40 }
      : { type: 'bar', name, data, ...(spec.type === 'histogram' ? { barCategoryGap: '4%' } : {}) };
  let plotted: (BarSeriesOption | LineSeriesOption)[];
  if (series >= 0) {
    // Long data (x, group, value) pivoted to one line or bar set per group.
    plotted = distinct(rows.map((row) => row[series])).map((group) =>
      styled(
        group,
        categories.map((category) => toNumber(rows.find((row) => String(row[x] ?? '') === category && String(row[series] ?? '') === group)?.[first])),
      ),
    );
  } else {
    plotted = y.map((index) => styled(columns[index] ?? '', rows.map((row) => toNumber(row[index]))));
  }
  return {
    grid: plotted.length > 1 ? grid : { ...grid, top: 16 },
    tooltip: { trigger: 'axis', valueFormatter: (value) => formatValue(value) },
    ...(plotted.length > 1 ? { legend: { type: 'scroll', top: 0 } } : {}),
    xAxis: { type: 'category', data: categories, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value' },
    series: plotted,
  };
}

/** The single value of a `number` chart: the first y cell of the first row. */
function singleValue(spec: ChartSpec): string {
  const columns = spec.data?.columns ?? [];
  const row = spec.data?.rows[0] ?? [];
  const index = spec.y?.[0] === undefined ? 0 : Math.max(0, columns.indexOf(spec.y[0]));
  return formatValue(row[index]);
}

export function ChartView({ spec }: { spec: ChartSpec }) {
  const container = useRef<HTMLDivElement>(null);
  const option = useMemo(() => (spec.type === 'number' || spec.type === 'table' ? null : chartOption(spec)), [spec]);

  useEffect(() => {
    const element = container.current;
    if (element === null || option === null) return;
    const chart = init(element, undefined, { renderer: 'canvas' });
    chart.setOption(option);
    const observer = new ResizeObserver(() => chart.resize());
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.dispose();
    };
  }, [option]);

  if (spec.type === 'number') {
    return (
      <figure className="chart chart-number">
        <figcaption>{spec.title}</figcaption>
        <div className="big-number">{singleValue(spec)}</div>
      </figure>
    );
  }
  if (option === null) return null;
  return (
    <figure className="chart">
      <figcaption>{spec.title}</figcaption>
      <div className="chart-canvas" ref={container} data-chart-type={spec.type} />
    </figure>
  );
}
