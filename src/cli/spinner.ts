import type { OutStream } from './io.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const CLEAR_LINE = '\r\x1b[2K';

/**
 * One status line at the bottom of a terminal, redrawn in place. Lines printed through `print` go above it, so logs
 * scroll while the spinner stays put. Only for terminals: callers print plain lines to pipes instead.
 */
export class Spinner {
  #text: () => string = () => '';
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;
  #shown = false;

  constructor(
    private readonly out: OutStream,
    private readonly intervalMs = 80,
  ) {}

  /** Shows (or updates) the status line; `text` is called on every frame so elapsed times tick. */
  start(text: () => string): void {
    this.#text = text;
    this.#draw();
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#draw(), this.intervalMs);
      // The spinner alone must never keep the process alive.
      this.#timer.unref();
    }
  }

  /** Prints a finished line above the spinner. */
  print(line: string): void {
    this.#clear();
    this.out.write(`${line}\n`);
    if (this.#timer) this.#draw();
  }

  /** Removes the status line and stops redrawing (until the next `start`). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
  }

  #draw(): void {
    this.#frame = (this.#frame + 1) % FRAMES.length;
    this.out.write(`${CLEAR_LINE}${FRAMES[this.#frame]} ${this.#text()}`);
    this.#shown = true;
  }

  #clear(): void {
    if (this.#shown) this.out.write(CLEAR_LINE);
    this.#shown = false;
  }
}
