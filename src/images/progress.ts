// Download progress on stderr: a bar with bytes, rate and time left, redrawn in place on
// a terminal; nothing in between elsewhere (the caller logs a line before and after).
import { isatty, write } from "../native/lib";

const REDRAW_MS = 100;

export function size(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  for (; bytes >= 1000 && i < units.length - 1; i++) bytes /= 1000;
  return `${bytes.toFixed(i && bytes < 10 ? 1 : 0)} ${units[i]}`;
}

export interface Progress {
  update(bytes: number): void;
  /** Clears the bar. */
  end(): void;
}

export function progress(label: string, total: () => number | undefined): Progress {
  if (!isatty(2)) return { update() {}, end() {} };
  const t0 = performance.now();
  let last = 0,
    drawn = false;
  return {
    update(bytes) {
      const now = performance.now();
      if (now - last < REDRAW_MS) return;
      last = now;
      const all = total();
      const rate = bytes / Math.max((now - t0) / 1000, 0.001);
      const width = 24;
      const done = all ? Math.min(width, Math.round((bytes / all) * width)) : 0;
      const bar = all ? `[${"=".repeat(done)}${" ".repeat(width - done)}] ` : "";
      const eta = all && rate > 0 ? `  ETA ${Math.ceil((all - bytes) / rate)} s` : "";
      write(2, `\r\x1b[K${label} ${bar}${size(bytes)}${all ? ` / ${size(all)}` : ""}  ${size(rate)}/s${eta}`);
      drawn = true;
    },
    end() {
      if (drawn) write(2, "\r\x1b[K");
    },
  };
}

/** One line for each of several downloads (an image's layers): redrawn in place at a
 * terminal, the whole block at once; elsewhere each line is logged once, when final. */
export class ProgressBoard {
  private readonly lines: string[] = [];
  private readonly tty = isatty(2);
  private drawn = 0;
  private last = 0;

  /** A new line; returns its index. */
  add(text: string): number {
    this.lines.push(text);
    this.draw(true);
    return this.lines.length - 1;
  }

  /** Updates a line; `final` lines are logged where there is no terminal. */
  set(i: number, text: string, final = false) {
    this.lines[i] = text;
    if (!this.tty && final) write(2, `mycfs: ${text}\n`);
    this.draw(final);
  }

  private draw(now: boolean) {
    if (!this.tty) return;
    const t = performance.now();
    if (!now && t - this.last < REDRAW_MS) return;
    this.last = t;
    const up = this.drawn ? `\x1b[${this.drawn}A` : "";
    write(2, `${up}${this.lines.map((l) => `\r\x1b[K${l}\n`).join("")}`);
    this.drawn = this.lines.length;
  }
}

/** "12 MB / 40 MB  3 MB/s" for a download under way. */
export function rate(bytes: number, total: number | undefined, since: number): string {
  const perSecond = bytes / Math.max((performance.now() - since) / 1000, 0.001);
  return `${size(bytes)}${total ? ` / ${size(total)}` : ""}  ${size(perSecond)}/s`;
}
