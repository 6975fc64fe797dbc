// HTTP(S) downloads that survive a bad network: redirects followed, a stall timeout, and
// retries with exponential backoff that resume with a Range request from the byte they
// stopped at. Bun's fetch honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY by itself (a test
// checks it). Every failure names the URL (or the source) and, for HTTP errors, the status.
// A URL is fetched as it is; a Source makes each attempt's request itself (a registry's,
// with its authentication and its own errors).
import { MycfsError } from "../errors";
import { log } from "../log";

export interface DownloadOptions {
  /** Milliseconds without a byte (or a response) before an attempt is given up. */
  timeout: number;
  /** Attempts after the first one. */
  retries: number;
  signal: AbortSignal;
}

/** Where a download's bytes come from: one request an attempt. */
export interface Source {
  /** What failures name. */
  name: string;
  /** The response of an attempt, for the bytes from `offset` on (a Range request) if not 0.
   * A MycfsError it throws ends the download as it is; anything else is retried. */
  open(offset: number, signal: AbortSignal): Promise<Response>;
}

const fromUrl = (url: string): Source => ({
  name: url,
  open: (offset, signal) => fetch(url, { headers: offset ? { Range: `bytes=${offset}-` } : {}, signal }),
});

export interface Download {
  body: ReadableStream<Uint8Array>;
  /** The size the server announced, once it answered. */
  total(): number | undefined;
}

class HttpStatus extends Error {
  constructor(
    readonly status: number,
    text: string,
  ) {
    super(`HTTP ${status}${text ? ` ${text}` : ""}`);
  }
}

/** Worth another try: the network, a timeout, or a server's passing trouble. */
const retriable = (e: unknown) => !(e instanceof HttpStatus) || [408, 425, 429, 500, 502, 503, 504].includes(e.status);
const BACKOFF_MS = 250;

export function download(from: string | Source, opts: DownloadOptions): Download {
  const source = typeof from === "string" ? fromUrl(from) : from;
  let offset = 0,
    skip = 0,
    attempt = 0,
    total: number | undefined;
  let reader: { read(): Promise<{ done: false; value: Uint8Array } | { done: true; value?: undefined }> } | null = null;
  let attemptCtl = new AbortController();
  let timer: Timer | undefined;
  let stalled = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      attemptCtl.abort();
    }, opts.timeout);
  };

  const open = async () => {
    attemptCtl = new AbortController();
    stalled = false;
    arm();
    const res = await source.open(offset, AbortSignal.any([attemptCtl.signal, opts.signal]));
    const range = res.headers.get("content-range")?.match(/^bytes (\d+)-\d+\/(\d+)$/);
    if (res.status === 206 && offset && Number(range?.[1]) === offset) {
      total = Number(range![2]);
      skip = 0;
    } else if (res.ok && res.status !== 206) {
      // a fresh copy from the start: drop what was already passed on
      total = Number(res.headers.get("content-length")) || undefined;
      skip = offset;
    } else {
      await res.body?.cancel();
      throw new HttpStatus(res.status, res.statusText);
    }
    if (!res.body) throw new Error("the response has no body");
    reader = res.body.getReader();
  };

  const why = (e: unknown) =>
    stalled ? `no data for ${opts.timeout / 1000} s` : e instanceof Error ? ((e as { code?: string }).code ?? e.message) : String(e);

  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          try {
            if (!reader) await open();
            const { value, done } = await reader!.read();
            arm();
            if (done) {
              if (total !== undefined && offset < total) throw new Error(`the connection closed after ${offset} of ${total} bytes`);
              clearTimeout(timer);
              return controller.close();
            }
            let chunk = value;
            if (skip) {
              const n = Math.min(skip, chunk.byteLength);
              skip -= n;
              chunk = chunk.subarray(n);
              if (!chunk.byteLength) continue;
            }
            offset += chunk.byteLength;
            return controller.enqueue(chunk);
          } catch (e) {
            clearTimeout(timer);
            reader = null;
            if (opts.signal.aborted) throw opts.signal.reason;
            if (e instanceof MycfsError) throw e;
            const tries = `${attempt + 1} attempt${attempt ? "s" : ""}`;
            if (!retriable(e) || attempt >= opts.retries) throw new MycfsError(`download of ${source.name} failed: ${why(e)} (${tries})`);
            const delay = BACKOFF_MS * 2 ** attempt++;
            log.warn(`${source.name}: ${why(e)}; retrying in ${(delay / 1000).toFixed(2)} s (${attempt}/${opts.retries})`);
            await Bun.sleep(delay);
          }
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        attemptCtl.abort(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, total: () => total };
}

/** A small text document (an index), with the same timeouts and retries. */
export async function fetchText(url: string, opts: DownloadOptions): Promise<string> {
  return new Response(download(url, opts).body).text();
}
