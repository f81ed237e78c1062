/**
 * What a refusal carries and the advice that goes with it. A reason completes the sentence
 * "Refused <KIND> statement: …"; a hint tells the person (or the model) what to do instead.
 */

export interface Refusal {
  /** The statement kind in SQL words, e.g. 'DELETE', 'SELECT FOR UPDATE', 'MULTIPLE'. */
  readonly kind: string;
  /** A sentence for a person, starting in lower case and ending with a full stop. */
  readonly reason: string;
  readonly hint: string;
}

export const readOnlyReason = 'iquery only runs read-only queries (SELECT, WITH … SELECT, VALUES).';

export const hints = {
  readOnly: 'Rewrite it as one SELECT (or WITH … SELECT, or VALUES) that only reads data; iquery never changes data, settings or sessions.',
  multiple: 'Send one query at a time, with no semicolon-separated second statement.',
  unparseable: 'Check the syntax for this database, or write a simpler SELECT; iquery only runs SQL it can check.',
  empty: 'Send a SELECT query.',
  tooLarge: 'Shorten the query; iquery reads at most 256 KiB of SQL.',
  lexical: 'Remove the comment or unusual character, write strings in plain single quotes without backslashes, and use -- comments followed by a space.',
  into: 'Drop the INTO clause; iquery returns the rows itself.',
  locks: 'Drop the FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE clause; a read-only query needs no row locks.',
  outside: 'Query the tables of the connected database instead; iquery does not read files, reach other servers, run administrative functions or read credentials.',
  file: 'Add the file to iquery as a data source instead of reading it from SQL.',
} as const;
