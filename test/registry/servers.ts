// Small HTTP servers of the tests' own in front of a real registry, for what a real one
// never does: a proxy that forwards every request unless `intercept` answers it (a wrong
// blob, 503s, a 429, a redirect), recording what it was asked.
export interface Seen {
  path: string;
  authorization: string | null;
  range: string | null;
}

export type Intercept = (req: Request, url: URL, count: number) => Response | undefined | Promise<Response | undefined>;

export function proxy(upstream: string, intercept: Intercept = () => undefined) {
  const seen: Seen[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      seen.push({ path: url.pathname, authorization: req.headers.get("authorization"), range: req.headers.get("range") });
      const answer = await intercept(req, url, seen.filter((s) => s.path === url.pathname).length);
      if (answer) return answer;
      const headers = new Headers(req.headers);
      headers.delete("host");
      const res = await fetch(`${upstream}${url.pathname}${url.search}`, { headers, redirect: "manual" });
      return new Response(res.body, { status: res.status, headers: res.headers });
    },
  });
  return { host: `127.0.0.1:${server.port}`, url: `http://127.0.0.1:${server.port}`, seen, stop: () => server.stop(true) };
}

/** A registry's error body. */
export const errors = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
  Response.json({ errors: [{ code, message }] }, { status, headers });
