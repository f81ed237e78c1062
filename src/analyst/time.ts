/**
 * Calendar windows for relative time ("过去3个月", "last quarter", "2025年"), as half-open ISO date
 * ranges [from, to). Months, quarters and years mean complete calendar periods: "the last 3 months"
 * on 2026-11-21 is August to October 2026; days and weeks end today, inclusive.
 */
import type { Grain } from './plan.js';

export interface Window {
  from: string;
  to: string;
  /** How the window reads, e.g. `2026-08-01 – 2026-10-31`. */
  label: string;
}

function iso(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function utc(year: number, month: number, day = 1): Date {
  return new Date(Date.UTC(year, month, day));
}

export function parseToday(text: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) throw new Error(`not an ISO date: ${text}`);
  return utc(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

function window(from: Date, to: Date): Window {
  const last = new Date(to.getTime() - 86_400_000);
  return { from: iso(from), to: iso(to), label: `${iso(from)} – ${iso(last)}` };
}

function periodStart(today: Date, unit: Exclude<Grain, 'day' | 'week'>): Date {
  const year = today.getUTCFullYear();
  const month = today.getUTCMonth();
  if (unit === 'month') return utc(year, month);
  if (unit === 'quarter') return utc(year, month - (month % 3));
  return utc(year, 0);
}

function shiftMonths(date: Date, months: number): Date {
  return utc(date.getUTCFullYear(), date.getUTCMonth() + months, date.getUTCDate());
}

const monthsIn: Record<'month' | 'quarter' | 'year', number> = { month: 1, quarter: 3, year: 12 };

/** The last `count` units before today: days and weeks end today; months, quarters, years are complete. */
export function lastWindow(today: Date, count: number, unit: Grain): Window {
  const tomorrow = new Date(today.getTime() + 86_400_000);
  if (unit === 'day') return window(new Date(tomorrow.getTime() - count * 86_400_000), tomorrow);
  if (unit === 'week') return window(new Date(tomorrow.getTime() - count * 7 * 86_400_000), tomorrow);
  const end = periodStart(today, unit);
  return window(shiftMonths(end, -count * monthsIn[unit]), end);
}

/** The current period up to today. */
export function thisWindow(today: Date, unit: Exclude<Grain, 'day' | 'week'>): Window {
  return window(periodStart(today, unit), new Date(today.getTime() + 86_400_000));
}

/** The complete period before the current one (last month, last quarter, last year). */
export function previousWindow(today: Date, unit: Exclude<Grain, 'day' | 'week'>): Window {
  return lastWindow(today, 1, unit);
}

/** Monday of the week `date` falls in. */
function monday(date: Date): Date {
  const offset = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - offset * 86_400_000);
}

export function thisWeek(today: Date): Window {
  return window(monday(today), new Date(today.getTime() + 86_400_000));
}

/** The complete week (Monday to Sunday) before this one. */
export function previousWeek(today: Date): Window {
  const start = monday(today);
  return window(new Date(start.getTime() - 7 * 86_400_000), start);
}

/** A named calendar period: a year, a quarter of a year, or a month of a year. */
export function calendarWindow(year: number, part?: { month?: number; quarter?: number }): Window {
  if (part?.month !== undefined) return window(utc(year, part.month - 1), utc(year, part.month));
  if (part?.quarter !== undefined) return window(utc(year, (part.quarter - 1) * 3), utc(year, part.quarter * 3));
  return window(utc(year, 0), utc(year + 1, 0));
}

/** The same window a year (or a month) earlier. */
export function shiftWindow(window_: Window, months: number): Window {
  const from = parseToday(window_.from);
  const to = parseToday(window_.to);
  return window(shiftMonths(from, months), shiftMonths(to, months));
}

export function todayIso(): string {
  return iso(new Date());
}
