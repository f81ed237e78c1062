/**
 * A chart spec chosen for the shape of the result: a line over time, bars for categories and bins, a
 * pie only for a few shares of a whole, a histogram for a distribution, a scatter for a correlation,
 * a single number or a table otherwise. An explicit request ("换成柱状图") wins when the shape allows it.
 */
import type { ChartType, Plan } from './plan.js';

export interface ChartSpec {
  type: ChartType;
  title: string;
  /** The result column on the x axis (or the pie's labels). */
  x?: string;
  /** The result columns plotted as values. */
  y?: string[];
  /** A second grouping column drawn as separate series. */
  series?: string;
  /** Points of a scatter plot, sampled from the data (the result holds only the coefficient). */
  points?: [number, number][];
}

const pieLimit = 6;

function naturalType(plan: Plan, rowCount: number): ChartType {
  switch (plan.intent) {
    case 'aggregate': {
      if (plan.change !== undefined) return 'bar';
      if (plan.dimensions.length === 0) return 'number';
      if (plan.dimensions.some((dimension) => dimension.grain !== undefined)) return 'line';
      if (plan.dimensions.some((dimension) => dimension.bin !== undefined)) return 'bar';
      const measure = plan.measures[0];
      if (plan.dimensions.length === 1 && plan.measures.length === 1 && measure?.kind === 'distribution' && rowCount <= pieLimit) return 'pie';
      return 'bar';
    }
    case 'histogram':
      return 'histogram';
    case 'correlation':
      return 'scatter';
    case 'missing':
      return 'bar';
    default:
      return 'table';
  }
}

/** Whether an asked-for chart type can draw this result. */
function fits(requested: ChartType, plan: Plan, rowCount: number): boolean {
  if (plan.intent !== 'aggregate') return requested === naturalType(plan, rowCount) || requested === 'table';
  if (plan.dimensions.length === 0) return requested === 'number' || requested === 'table';
  if (requested === 'pie') return plan.dimensions.length === 1 && plan.measures.length === 1 && rowCount <= 12;
  return requested === 'bar' || requested === 'line' || requested === 'table';
}

export function chooseChart(plan: Plan, columns: readonly string[], rowCount: number, title: string): ChartSpec {
  const requested = 'chart' in plan ? plan.chart : undefined;
  const type = requested !== undefined && fits(requested, plan, rowCount) ? requested : naturalType(plan, rowCount);
  const spec: ChartSpec = { type, title };
  if (plan.intent === 'aggregate' && plan.dimensions.length > 0) {
    const dimensions = plan.dimensions.length;
    const timeIndex = plan.dimensions.findIndex((dimension) => dimension.grain !== undefined);
    const xIndex = timeIndex >= 0 ? timeIndex : 0;
    spec.x = columns[xIndex] as string;
    spec.y = columns.slice(dimensions);
    if (dimensions >= 2) spec.series = columns[xIndex === 0 ? 1 : 0] as string;
  } else if (plan.intent === 'aggregate') {
    spec.y = [...columns];
  } else if (plan.intent === 'histogram' || plan.intent === 'missing') {
    spec.x = columns[0] as string;
    spec.y = [columns[1] as string];
  } else if (plan.intent === 'correlation') {
    spec.x = plan.x.column.name;
    spec.y = [plan.y.column.name];
  }
  return spec;
}
