/**
 * Customer IDs shaped like the real data's (`7590-VHVEG`: four digits, a dash, five capital letters),
 * unique by construction: the row position goes through an affine permutation of the whole ID space,
 * so no two customers can collide and no uniqueness check or retry is needed at any scale.
 */

const digitCombinations = 10_000n;
const letterCombinations = 26n ** 5n;

/** How many distinct IDs the format allows: 10^4 × 26^5 ≈ 1.19 × 10^11. */
export const customerIdSpace = digitCombinations * letterCombinations;

/** The prime factors of the ID space (2^9 · 5^4 · 13^5); the multiplier must avoid all of them. */
const spacePrimeFactors = [2n, 5n, 13n] as const;

const mask64 = (1n << 64n) - 1n;

/** SplitMix64: turns the seed into well-spread 64-bit numbers without any state beyond the seed. */
function splitMix64(value: bigint): bigint {
  let mixed = (value + 0x9e3779b97f4a7c15n) & mask64;
  mixed = ((mixed ^ (mixed >> 30n)) * 0xbf58476d1ce4e5b9n) & mask64;
  mixed = ((mixed ^ (mixed >> 27n)) * 0x94d049bb133111ebn) & mask64;
  return mixed ^ (mixed >> 31n);
}

function isCoprimeWithSpace(candidate: bigint): boolean {
  return spacePrimeFactors.every((factor) => candidate % factor !== 0n);
}

/**
 * The permutation `position ↦ (multiplier × position + offset) mod space` for a seed. The multiplier is
 * coprime with the space, so the map is a bijection; it is also kept large so that neighbouring
 * positions get unrelated-looking IDs.
 */
export function customerIdPermutation(seed: number): { multiplier: bigint; offset: bigint } {
  const seedBits = BigInt.asUintN(64, BigInt(seed));
  let multiplier = (splitMix64(seedBits) % (customerIdSpace / 2n)) + customerIdSpace / 3n;
  while (!isCoprimeWithSpace(multiplier)) multiplier += 1n;
  const offset = splitMix64(seedBits ^ 0x5bd1e995n) % customerIdSpace;
  return { multiplier, offset };
}

/** The ID of one position, in TypeScript; the SQL below computes the same, and the tests compare them. */
export function customerIdAt(seed: number, position: number): string {
  const { multiplier, offset } = customerIdPermutation(seed);
  let code = (multiplier * BigInt(position) + offset) % customerIdSpace;
  const digits = (code % digitCombinations).toString().padStart(4, '0');
  code /= digitCombinations;
  let letters = '';
  for (let index = 0; index < 5; index += 1) {
    letters += String.fromCharCode(65 + Number(code % 26n));
    code /= 26n;
  }
  return `${digits}-${letters}`;
}

/**
 * SQL for the permuted code of a position column (a BIGINT below the ID space). HUGEINT because
 * multiplier × position passes 2^63 at a few hundred million customers.
 */
export function customerCodeSql(seed: number, positionColumn: string): string {
  const { multiplier, offset } = customerIdPermutation(seed);
  return `((${multiplier}::HUGEINT * ${positionColumn} + ${offset}) % ${customerIdSpace})::BIGINT`;
}

/** SQL turning a code column from {@link customerCodeSql} into the `7590-VHVEG` text. */
export function customerIdFromCodeSql(codeColumn: string): string {
  const letter = (place: number): string =>
    `chr(65 + ((${codeColumn} // ${digitCombinations * 26n ** BigInt(place)}) % 26)::INTEGER)`;
  return [`lpad((${codeColumn} % ${digitCombinations})::VARCHAR, 4, '0')`, `'-'`, ...[0, 1, 2, 3, 4].map(letter)].join(
    ' || ',
  );
}
