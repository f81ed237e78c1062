/**
 * Splits identifiers into words: camelCase, PascalCase, snake_case, kebab-case, acronyms and digits.
 * `MonthlyCharges` → monthly charges, `customerID` → customer id, `paid_late` → paid late,
 * `HTTPServer2` → http server 2. Runs of Chinese (or other uncased) letters stay whole.
 */

type CharacterKind = 'lower' | 'upper' | 'digit' | 'uncased' | 'separator';

function kindOf(character: string | undefined): CharacterKind {
  if (character === undefined) return 'separator';
  if (character >= '0' && character <= '9') return 'digit';
  const lower = character.toLowerCase();
  const upper = character.toUpperCase();
  if (lower !== upper) return character === lower ? 'lower' : 'upper';
  // Letters without case (Chinese, Japanese, …) are words; everything else separates.
  return /\p{L}/u.test(character) ? 'uncased' : 'separator';
}

/** The words of an identifier, lower-cased; empty for a name of separators only. */
export function splitName(name: string): string[] {
  const characters = Array.from(name);
  const words: string[] = [];
  let current = '';
  for (const [index, character] of characters.entries()) {
    const kind = kindOf(character);
    if (kind === 'separator') {
      if (current !== '') words.push(current);
      current = '';
      continue;
    }
    const previous = kindOf(characters[index - 1]);
    const next = kindOf(characters[index + 1]);
    const startsWord =
      current !== '' &&
      ((previous === 'lower' && kind === 'upper') ||
        // The last capital of an acronym starts the next word: HTTPServer → HTTP Server.
        (previous === 'upper' && kind === 'upper' && next === 'lower') ||
        (previous === 'digit') !== (kind === 'digit') ||
        (previous === 'uncased') !== (kind === 'uncased'));
    if (startsWord) {
      words.push(current);
      current = '';
    }
    current += character;
  }
  if (current !== '') words.push(current);
  return words.map((word) => word.toLowerCase());
}

/** The words of an identifier joined by spaces: `MonthlyCharges` → `monthly charges`. */
export function readableName(name: string): string {
  return splitName(name).join(' ');
}
