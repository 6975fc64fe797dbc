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
