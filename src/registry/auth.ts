// Answering a registry's challenges (distribution's docs/spec/auth/token.md): Basic sends
// the credentials with each request; Bearer sends a token from the challenge's realm, asked
// for the request's scope (repository:NAME:pull) with the credentials as Basic auth, or
// anonymously without them. Tokens are kept per scope until they expire. Credentials go
// over https only, or to a loopback host, or with --insecure-registry; nothing here ever
// logs a secret.
//
//   new Authorizer(registry, credentials, fetch, insecure)
//   .learn(challenges)                      what a 401 (of the ping, say) asked for
//   .header(scope, signal): Promise<string | undefined>       an Authorization header
//   .forget(scope)                          the registry refused the token it had
import { MycfsError } from "../errors";
import { log } from "../log";
import { readBody } from "./body";
import type { Challenge } from "./challenge";
import type { Credentials } from "./credentials";
import { isLoopback } from "./reference";

type Fetch = (url: string, headers: Record<string, string>, signal: AbortSignal) => Promise<Response>;

/** docker's default when a token server gives no expires_in (token.md). */
const DEFAULT_TOKEN_SECONDS = 60;
/** A token this close to its end is not sent: it could expire on the way. */
const MARGIN_MS = 5_000;
const MAX_TOKEN_RESPONSE = 1 << 20;

interface Token {
  header: string | undefined;
  expires: number;
}

export class Authorizer {
  private challenge?: Challenge;
  private tokens = new Map<string, Promise<Token>>();

  constructor(
    private readonly registry: string,
    readonly credentials: Credentials | undefined,
    private readonly fetch: Fetch,
    private readonly insecure: boolean,
  ) {}

  /** Takes the challenge to answer from now on: Bearer over Basic; other schemes are not
   * spoken, so with them alone requests stay anonymous. */
  learn(challenges: Challenge[]) {
    const next = challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    if (!next) return;
    // tokens from another server are no good here (a scope in the challenge changes nothing)
    const from = (c?: Challenge) => c && [c.scheme, c.params.realm, c.params.service].join(" ");
    if (from(next) !== from(this.challenge)) this.tokens.clear();
    this.challenge = next;
  }

  /** The registry asked for authentication. */
  get challenged(): boolean {
    return this.challenge !== undefined;
  }

  /** Drops the token of `scope` (the registry refused it): the next header() asks again. */
  forget(scope: string) {
    this.tokens.delete(scope);
  }

  async header(scope: string, signal: AbortSignal): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === "basic") return this.credentials && basic(this.credentials);
    const cached = await this.tokens.get(scope)?.catch(() => undefined);
    if (cached && Date.now() < cached.expires) return cached.header;
    // requests that need the same token at once wait for one answer
    const asked = this.token(c, scope, signal);
    this.tokens.set(scope, asked);
    asked.catch(() => this.tokens.get(scope) === asked && this.tokens.delete(scope));
    return (await asked).header;
  }

  private async token(c: Challenge, scope: string, signal: AbortSignal): Promise<Token> {
    const realm = URL.canParse(c.params.realm ?? "") ? new URL(c.params.realm!) : null;
    if (!realm || !/^https?:$/.test(realm.protocol))
      throw new MycfsError(`${this.registry} asks for a token from '${c.params.realm ?? ""}', which is no http(s) URL`);
    if (c.params.service) realm.searchParams.set("service", c.params.service);
    if (scope) realm.searchParams.append("scope", scope);
    const creds = this.credentials;
    if (creds && realm.protocol === "http:" && !this.insecure && !isLoopback(realm.hostname))
      throw new MycfsError(`${this.registry} asks for a token over plain http (${realm.origin}): mycfs sends credentials there only with --insecure-registry`);
    log.debug(`token for ${scope || "login"} from ${realm.origin}${realm.pathname}${creds ? ` as ${creds.username}` : " (anonymous)"}`);
    const res = await this.fetch(realm.href, creds ? { Authorization: basic(creds) } : {}, signal);
    const bytes = await readBody(res.body, MAX_TOKEN_RESPONSE);
    if (res.status === 401 || res.status === 403) {
      if (!creds) return { header: undefined, expires: 0 };
      throw new MycfsError(
        `${this.registry} refused the credentials of ${creds.username}${creds.file ? ` (from ${creds.file})` : ""}: wrong user name or password? run 'mycfs login ${this.registry}'`,
      );
    }
    // a token server's passing trouble is the network's: a plain Error is retried
    if (res.status >= 500) throw new Error(`the token server ${realm.host} answered HTTP ${res.status}`);
    if (!res.ok) throw new MycfsError(`the token server ${realm.host} of ${this.registry} answered HTTP ${res.status}`);
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(bytes ? new TextDecoder().decode(bytes) : "");
    } catch {
      throw new MycfsError(`the token server ${realm.host} of ${this.registry} sent no JSON`);
    }
    const token = [body.token, body.access_token].find((t) => typeof t === "string" && t);
    if (typeof token !== "string") throw new MycfsError(`the token server ${realm.host} of ${this.registry} sent no token`);
    // counted from now, not from the server's issued_at: its clock may be off
    const seconds = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    return { header: `Bearer ${token}`, expires: Date.now() + seconds * 1000 - MARGIN_MS };
  }
}

const basic = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
