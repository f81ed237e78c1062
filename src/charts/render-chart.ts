/**
 * Charts drawn on the server, as SVG, from a chart spec and its data (echarts' server-side
 * rendering): for the terminal, which cannot draw, and for reports. Text uses the CJK fonts the
 * set-up installs, so Chinese labels render.
 */
import * as echarts from 'echarts';

export interface ChartToDraw {
  type: 'bar' | 'line' | 'pie' | 'scatter' | 'histogram' | 'table' | 'number';
  title: string;
  /** The column on the x axis (the pie's labels). Default: the first column. */
  x?: string;
  /** The columns drawn as values. Default: every numeric column but x. */
  y?: string[];
  /** A column whose values split the rows into series. */
  series?: string;
  /** Points of a scatter, when the result itself holds only a coefficient. */
  points?: [number, number][];
  columns: string[];
  rows: unknown[][];
}

export interface RenderOptions {
  /** Pixels. Defaults 800 × 480. */
  width?: number;
  height?: number;
}

const fontFamily = 'Noto Sans CJK SC, Noto Sans CJK, Noto Sans, sans-serif';

function numeric(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/** The echarts option for a spec; undefined when the spec is not a picture (a table, a single number) or names columns the data lacks. */
export function chartOption(chart: ChartToDraw): echarts.EChartsCoreOption | undefined {
  if (chart.type === 'table' || chart.type === 'number') return undefined;
  const column = (name: string | undefined): number => (name === undefined ? -1 : chart.columns.indexOf(name));
  const x = chart.x === undefined ? 0 : column(chart.x);
  if (x < 0 && chart.type !== 'scatter') return undefined;
  const values = (chart.y ?? chart.columns.filter((_name, index) => index !== x && chart.rows.some((row) => numeric(row[index]) !== null))).map(column);
  if (values.some((index) => index < 0)) return undefined;
  const base = { animation: false, textStyle: { fontFamily }, title: { text: chart.title, left: 'center', textStyle: { fontFamily, fontSize: 16 } }, tooltip: {} };
  const categories = chart.rows.map((row) => String(row[x] ?? ''));
  if (chart.type === 'pie') {
    const value = values[0];
    if (value === undefined) return undefined;
    return { ...base, series: [{ type: 'pie', radius: '60%', data: chart.rows.map((row, index) => ({ name: categories[index], value: numeric(row[value]) })), label: { fontFamily } }] };
  }
  if (chart.type === 'scatter') {
    const points = chart.points ?? chart.rows.map((row) => [numeric(row[values[0] ?? 0]), numeric(row[values[1] ?? 1])]);
    return { ...base, xAxis: { type: 'value', name: chart.y?.[0] ?? chart.columns[0] }, yAxis: { type: 'value', name: chart.y?.[1] ?? chart.columns[1] }, series: [{ type: 'scatter', symbolSize: 5, data: points }] };
  }
  const split = column(chart.series);
  const seriesType = chart.type === 'line' ? 'line' : 'bar';
  const axis = { xAxis: { type: 'category', data: [...new Set(categories)], axisLabel: { fontFamily, interval: 'auto', rotate: categories.length > 8 ? 30 : 0 } }, yAxis: { type: 'value' }, grid: { left: 60, right: 30, bottom: 70, top: 60 } };
  if (split >= 0 && values[0] !== undefined) {
    const groups = [...new Set(chart.rows.map((row) => String(row[split] ?? '')))];
    const keys = axis.xAxis.data;
    const series = groups.map((group) => ({
      type: seriesType,
      name: group,
      data: keys.map((key) => {
        const row = chart.rows.find((candidate) => String(candidate[x] ?? '') === key && String(candidate[split] ?? '') === group);
        return row === undefined ? null : numeric(row[values[0] ?? 0]);
      }),
    }));
    return { ...base, ...axis, legend: { top: 28, textStyle: { fontFamily } }, series };
  }
  const series = values.map((index) => ({ type: seriesType, name: chart.columns[index], data: chart.rows.map((row) => numeric(row[index])), ...(chart.type === 'histogram' ? { barCategoryGap: '2%' } : {}) }));
  return { ...base, ...axis, ...(series.length > 1 ? { legend: { top: 28, textStyle: { fontFamily } } } : {}), series };
}

/** The chart as a standalone SVG document, or undefined when the spec is not a picture. */
export function renderChartSvg(chart: ChartToDraw, options: RenderOptions = {}): string | undefined {
  const option = chartOption(chart);
  if (option === undefined) return undefined;
  const instance = echarts.init(null, null, { renderer: 'svg', ssr: true, width: options.width ?? 800, height: options.height ?? 480 });
  try {
    instance.setOption({ backgroundColor: '#ffffff', ...option });
    return instance.renderToSVGString();
  } finally {
    instance.dispose();
  }
}
