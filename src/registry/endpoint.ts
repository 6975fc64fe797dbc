// One registry's HTTP API as docker reaches it: https, or plain http after https failed
// for a loopback host or with --insecure-registry (never after a certificate was refused:
// that server speaks TLS); the certificate checked against the system's CAs plus
// --registry-ca's (else those of the host's certs.d for the registry, as docker and podman
// keep them), or not at all with --insecure-registry; the first answer of /v2/ (the
// ping) says which authentication it wants; redirects followed by hand, so that the
// registry's Authorization never goes to another host and the registry's TLS exceptions
// stay the registry's; one 401 answered with fresh authorization.
//
//   new Endpoint(registry, opts)
//   .request(path, headers, scope, signal): Promise<Response>   the final answer, any status
//   .checkLogin(signal): Promise<void>                          the credentials work (login)
//   registryErrors(res), saying(errors)                         what its error body says
import { rootCertificates } from "node:tls";
import { EXIT_MYCFS, MycfsError } from "../errors";
import { log } from "../log";
import { listDir, readFile } from "../native/lib";
import { Authorizer } from "./auth";
import { readBody } from "./body";
import { parseChallenges } from "./challenge";
import { type Credentials, findCredentials } from "./credentials";
import { apiHost, isLoopback } from "./reference";

export interface EndpointOptions {
  /** --insecure-registry: plain http allowed, the certificate not verified. */
  insecure?: boolean;
  /** --registry-ca: a PEM file of the CA (or CAs) that signed the registry's certificate. */
  caFile?: string;
  /** Milliseconds without an answer (in a transfer, without data) before an attempt is
   * given up (default 30 000). */
  timeout?: number;
  signal?: AbortSignal;
  /** Instead of those found for the registry (credentials.ts); null: anonymous. */
  credentials?: Credentials | null;
}

/** Where docker and podman users keep a registry's own CAs: DIR/HOST[:PORT]/*.crt. */
const CERTS_D = ["/etc/containers/certs.d", "/etc/docker/certs.d"];

/** The CAs the host keeps for `registry` in certs.d, as docker and podman read them (their
 * client certificates, *.cert and *.key, are not used). */
function certsDir(registry: string): string[] {
  return CERTS_D.flatMap((d) => (listDir(`${d}/${registry}`) ?? []).filter((f) => f.endsWith(".crt")).flatMap((f) => readFile(`${d}/${registry}/${f}`) ?? []));
}

const MAX_REDIRECTS = 10;
const MAX_ERROR_BODY = 64 << 10;
const DEFAULT_TIMEOUT_MS = 30_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ISSUER|ALTNAME|HOSTNAME/;

/** How a network error reads in a message: its code, or a timeout said as one. */
function networkWhy(e: unknown): string {
  if (e instanceof DOMException && e.name === "TimeoutError") return "no answer in time";
  const { code, message } = (e ?? {}) as { code?: string; message?: string };
  return code && message && !message.startsWith(code) ? `${code}: ${message}` : (message ?? code ?? String(e));
}

export class Endpoint {
  /** The host its API is on (registry-1.docker.io for docker.io). */
  readonly host: string;
  readonly auth: Authorizer;
  private base?: Promise<string>;
  private ca?: string[];

  constructor(
    readonly registry: string,
    private readonly opts: EndpointOptions = {},
  ) {
    this.host = apiHost(registry);
    const creds = opts.credentials === undefined ? findCredentials(registry) : (opts.credentials ?? undefined);
    this.auth = new Authorizer(registry, creds, (url, headers, signal) => this.follow(url, headers, signal), opts.insecure === true);
    const pems = opts.caFile ? [readFile(opts.caFile)] : certsDir(registry);
    if (opts.caFile && (pems[0] === null || !pems[0]!.includes("BEGIN CERTIFICATE")))
      throw new MycfsError(`--registry-ca ${opts.caFile}: ${pems[0] === null ? "no such file" : "not a PEM certificate"}`);
    // added to the system's CAs, as docker adds certs.d's: redirects to a CDN still verify
    if (pems.length) this.ca = [...rootCertificates, ...(pems as string[])];
  }

  private tls(url: URL) {
    const own = url.host === this.host;
    if (own && this.opts.insecure) return { rejectUnauthorized: false };
    return this.ca && { ca: this.ca };
  }

  /** GET url with redirects followed by hand: another origin gets no Authorization. */
  private async follow(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
    let at = new URL(url);
    const h = { ...headers };
    for (let hops = 0; ; hops++) {
      const res = await fetch(at, { headers: h, signal, redirect: "manual", tls: this.tls(at) });
      const location = res.headers.get("location");
      if (!REDIRECTS.has(res.status) || location === null) return res;
      await res.body?.cancel();
      const next = URL.canParse(location, at.href) ? new URL(location, at) : null;
      if (!next || !/^https?:$/.test(next.protocol))
        throw new MycfsError(`${this.registry} redirected ${at.pathname} to '${location}', which is no http(s) URL`);
      if (hops === MAX_REDIRECTS) throw new MycfsError(`${this.registry}: more than ${MAX_REDIRECTS} redirects for ${url}`);
      if (next.origin !== at.origin) delete h.Authorization;
      log.debug(`${at.host}${at.pathname} redirects to ${next.host}`);
      at = next;
    }
  }

  /** The scheme and host requests go to, found by the ping (once). */
  private origin(): Promise<string> {
    this.base ??= this.ping();
    this.base.catch(() => (this.base = undefined));
    return this.base;
  }

  private async ping(): Promise<string> {
    const plain = this.opts.insecure || isLoopback(this.host);
    let failure: unknown;
    for (const scheme of plain ? ["https", "http"] : ["https"]) {
      const signal = AbortSignal.any([this.opts.signal ?? new AbortController().signal, AbortSignal.timeout(this.opts.timeout ?? DEFAULT_TIMEOUT_MS)]);
      try {
        const res = await this.follow(`${scheme}://${this.host}/v2/`, {}, signal);
        await res.body?.cancel();
        if (res.status === 401) this.auth.learn(parseChallenges(res.headers.get("www-authenticate") ?? ""));
        else if (res.status === 404) throw new MycfsError(`${this.host} is no image registry: ${scheme}://${this.host}/v2/ answered HTTP 404`);
        log.debug(`${this.registry}: ${scheme}://${this.host} answered ${res.status}`);
        return `${scheme}://${this.host}`;
      } catch (e) {
        if (this.opts.signal?.aborted) throw this.opts.signal.reason;
        if (e instanceof MycfsError) throw e;
        const code = (e as { code?: string }).code ?? "";
        if (scheme === "https" && CERTIFICATE.test(code))
          throw new MycfsError(
            `the certificate of ${this.host} is not trusted (${networkWhy(e)}): give the CA that signed it with --registry-ca FILE, or skip verification with --insecure-registry`,
            EXIT_MYCFS,
            e,
          );
        log.debug(`${scheme}://${this.host}/v2/: ${networkWhy(e)}`);
        failure ??= e;
      }
    }
    throw new MycfsError(`cannot reach the registry ${this.host}: ${networkWhy(failure)}`, EXIT_MYCFS, failure);
  }

  /** GET path with the authorization `scope` needs; a 401 is answered once. */
  async request(path: string, headers: Record<string, string>, scope: string, signal: AbortSignal): Promise<Response> {
    const base = await this.origin();
    let auth = await this.auth.header(scope, signal);
    for (let tries = 0; ; tries++) {
      const res = await this.follow(`${base}${path}`, auth ? { ...headers, Authorization: auth } : headers, signal);
      if (res.status !== 401 || tries === 1) return res;
      this.auth.learn(parseChallenges(res.headers.get("www-authenticate") ?? ""));
      this.auth.forget(scope);
      const next = await this.auth.header(scope, signal);
      // nothing new to send: the 401 is the answer
      if (next === undefined || next === auth) return res;
      await res.body?.cancel();
      auth = next;
    }
  }

  /** As docker login: /v2/ with the credentials (a token asked for without a scope). */
  async checkLogin(signal: AbortSignal): Promise<void> {
    const res = await this.request("/v2/", {}, "", signal);
    if (res.ok) {
      await res.body?.cancel();
      if (!this.auth.challenged) log.warn(`${this.registry} asks for no login: the credentials were not checked`);
      return;
    }
    const who = this.auth.credentials?.username;
    const why = res.status === 401 || res.status === 403 ? "wrong user name or password" : `HTTP ${res.status}`;
    throw new MycfsError(`login to ${this.registry}${who ? ` as ${who}` : ""} failed: ${why}${saying(await registryErrors(res))}`);
  }
}

export interface RegistryError {
  code?: string;
  message?: string;
}

/** The errors of a registry's error body, `{"errors":[{"code","message"}]}`; [] if none. */
export async function registryErrors(res: Response): Promise<RegistryError[]> {
  const body = await readBody(res.body, MAX_ERROR_BODY).catch(() => null);
  try {
    const errors = (JSON.parse(new TextDecoder().decode(body ?? new Uint8Array(0))) as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return [];
    const text = (x: unknown) => (typeof x === "string" && x ? x : undefined);
    return errors.map((e) => ({ code: text(e?.code), message: text(e?.message) })).filter((e) => e.code || e.message);
  } catch {
    return [];
  }
}

/** Errors as a message's tail: ": CODE: message; …", or "". */
export const saying = (errors: RegistryError[]) => (errors.length ? `: ${errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ")}` : "");
