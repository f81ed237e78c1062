/**
 * Text normalisation shared by the question and the vocabulary: both go through `normalize`, so that
 * a synonym written in the dictionary matches however the question writes it (full-width digits,
 * Chinese numerals, case, spacing).
 */

export type Language = 'zh' | 'en';

const chineseDigits: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const chineseUnits: Record<string, number> = { 十: 10, 百: 100, 千: 1000, 万: 10_000 };
const numeralRun = /[零〇一二两三四五六七八九十百千万]+/g;

/** The value of a run of Chinese numerals (`十二` 12, `一百二十` 120, `三万` 30000), or undefined. */
export function chineseNumeralValue(text: string): number | undefined {
  let total = 0;
  let section = 0;
  let digit: number | undefined;
  for (const char of text) {
    const value = chineseDigits[char];
    if (value !== undefined) {
      // 二三 is not a number; 二零二五 (a year, digit by digit) is handled by the caller.
      if (digit !== undefined) return undefined;
      digit = value;
      continue;
    }
    const unit = chineseUnits[char];
    if (unit === undefined) return undefined;
    if (unit === 10_000) {
      total = (total + section + (digit ?? 0)) * unit;
      section = 0;
    } else {
      section += (digit ?? 1) * unit;
    }
    digit = undefined;
  }
  return total + section + (digit ?? 0);
}

/** `二零二五` → 2025: a run of plain digits read one by one, as years are written. */
function digitByDigit(text: string): string | undefined {
  let out = '';
  for (const char of text) {
    const value = chineseDigits[char];
    if (value === undefined || char === '两') return undefined;
    out += String(value);
  }
  return out;
}

/** Single numerals that are words rather than numbers in these neighbourhoods (一些 some, 统一, 万一…). */
const wordlike = new Set(['一个', '一种', '一类', '每一', '这一', '那一', '一行', '一列', '一张', '同一', '一组', '一档', '一段', '一一', '一些', '一下', '一共', '一起', '一样', '一般', '一直', '统一', '唯一', '万一', '一致', '一定', '一点', '千万', '百分']);

function replaceChineseNumerals(text: string): string {
  return text.replace(numeralRun, (run, offset: number) => {
    const before = text.slice(Math.max(0, offset - 1), offset);
    const after = text.slice(offset + run.length, offset + run.length + 1);
    if (wordlike.has(run + after) || wordlike.has(before + run) || wordlike.has(run)) return run;
    if (run.length >= 4 && after === '年') {
      const year = digitByDigit(run);
      if (year !== undefined) return year;
    }
    const value = chineseNumeralValue(run);
    return value === undefined ? run : String(value);
  });
}

const englishNumbers: Record<string, number> = {
  zero: 0, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
  fifteen: 15, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, hundred: 100,
};
const englishNumberPattern = new RegExp(`\\b(${Object.keys(englishNumbers).join('|')})\\b`, 'g');

/**
 * NFKC (full-width letters, digits and punctuation become ASCII), lower case, Chinese numerals as
 * digits, thousands separators dropped, and runs of spaces as one.
 */
export function normalize(text: string): string {
  let out = text.normalize('NFKC').toLowerCase();
  out = out.replace(/[“”"‘’`]/g, "'").replace(/[，、；]/g, ',').replace(/[。！？]/g, '.').replace(/[：]/g, ':');
  out = out.replace(/\b(can|won)'t\b/g, (_match, verb: string) => (verb === 'can' ? 'can not' : 'will not')).replace(/n't\b/g, ' not');
  out = out.replace(/'(ve|re|ll|d|m|s)\b/g, '');
  out = out.replace(/\b(non|not)-(?=[a-z])/g, '$1 ');
  // `senior-status`, `month-to-month`: words joined by hyphens read as words (the dictionary's too).
  out = out.replace(/([a-z])-(?=[a-z])/g, '$1 ');
  out = replaceChineseNumerals(out);
  out = out.replace(englishNumberPattern, (word) => String(englishNumbers[word]));
  // `one` is a number before a unit or a noun of the data (`one year`, `one-year`), else a pronoun (`without one`).
  out = out.replace(/\bone(?=[\s-]+(year|month|quarter|week|day)s?\b)/g, '1');
  out = out.replace(/百分之\s*(\d+(?:\.\d+)?)/g, '$1%');
  // `top10`, `前10名`, `近半年`: numbers glued to words, and halves.
  out = out.replace(/\b(top|bottom|first|last|p)(\d+)\b/g, '$1 $2');
  out = out.replace(/(近|过去|最近)半年/g, '$16个月').replace(/(?<![上下前后])半年/g, '6个月');
  out = out.replace(/(\d),(\d{3})(?!\d)/g, '$1$2');
  return out.replace(/\s+/g, ' ').trim();
}

const hanPattern = /\p{Script=Han}/u;
const hanGlobal = /\p{Script=Han}/gu;

export function hasHan(text: string): boolean {
  return hanPattern.test(text);
}

/** Chinese when the question has any Han characters worth counting, else English. */
export function detectLanguage(question: string): Language {
  const han = question.match(hanGlobal)?.length ?? 0;
  const latinWords = question.match(/[a-z]{2,}/gi)?.length ?? 0;
  return han > 0 && han * 2 >= latinWords ? 'zh' : 'en';
}

export function isWordChar(char: string | undefined): boolean {
  return char !== undefined && /[a-z0-9_]/i.test(char);
}
