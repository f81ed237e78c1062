/**
 * Lines from standard input, asked for one at a time. Lines that arrive before they are asked for
 * (piped input, a fast typist) wait in a queue instead of being lost, so `iquery chat` can be driven
 * by a script as well as by a person.
 */
import { createInterface, type Interface } from 'node:readline';

export class LineReader {
  private readonly lines: string[] = [];
  private readonly waiting: ((line: string | undefined) => void)[] = [];
  private readonly reader: Interface;
  private ended = false;

  constructor(input: NodeJS.ReadableStream = process.stdin, private readonly output: NodeJS.WritableStream = process.stderr) {
    this.reader = createInterface({ input, terminal: false });
    this.reader.on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter !== undefined) waiter(line);
      else this.lines.push(line);
    });
    this.reader.on('close', () => {
      this.ended = true;
      for (const waiter of this.waiting.splice(0)) waiter(undefined);
    });
  }

  /** Calls `listener` on Ctrl-C at the terminal. */
  onInterrupt(listener: () => void): void {
    this.reader.on('SIGINT', listener);
  }

  /** Shows `prompt` and resolves to the next line, or undefined when input has ended. */
  question(prompt: string): Promise<string | undefined> {
    this.output.write(prompt);
    const line = this.lines.shift();
    if (line !== undefined) {
      if (!(process.stdin as { isTTY?: boolean }).isTTY) this.output.write(`${line}\n`);
      return Promise.resolve(line);
    }
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    this.reader.close();
  }
}
