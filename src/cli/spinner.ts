/**
 * A spinner on stderr for waits (the model thinking, a query or a cell running, the kernel starting).
 * Only at a terminal; elsewhere it writes nothing, so logs and pipes stay clean.
 */
const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Spinner {
  private timer: NodeJS.Timeout | undefined;
  private label = '';
  private frame = 0;
  private readonly enabled: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = stream.isTTY === true;
  }

  /** Shows (or relabels) the spinner. */
  start(label: string): void {
    this.label = label;
    if (!this.enabled || this.timer !== undefined) return;
    const started = Date.now();
    this.timer = setInterval(() => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      this.stream.write(`\r\x1b[2K${frames[this.frame++ % frames.length] ?? ''} ${this.label}${seconds >= 2 ? ` (${seconds} s)` : ''}`);
    }, 100);
    this.timer.unref();
  }

  /** Hides it and clears its line, so the next output starts clean. */
  stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.stream.write('\r\x1b[2K');
  }
}
