import { IqueryError } from '../errors.js';

const rules = {
  'positive whole number': (value: number) => Number.isInteger(value) && value > 0,
  'number above 0': (value: number) => Number.isFinite(value) && value > 0,
  'whole number': (value: number) => Number.isInteger(value),
} as const;

/**
 * A commander option parser for a numeric flag: the value must fit `rule`, or the user gets a usage
 * error saying what the flag takes (`description` replaces the rule's own words, e.g. to name a unit).
 */
export function numberFlag(flag: string, rule: keyof typeof rules, description = `a ${rule}`) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === '' || !rules[rule](value)) throw new IqueryError('usage', `${flag} takes ${description}, got "${text}".`);
    return value;
  };
}
