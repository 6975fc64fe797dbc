// One repository of a registry (HTTP API v2): its manifests by tag or digest, and its blobs
// as streams checked against their digests while they stream. Transfers survive a bad
// network as images/download.ts makes them (5xx, dropped connections and stalls retried
// with backoff, resumed with Range); refusals are one line naming the image and the way
// out (401/403/404: pull access denied or not there; 429: the registry's own message).
//
//   new Registry({ registry, repository }, opts?)
//   .manifest(reference): Promise<FetchedManifest>     reference: a tag or sha256:…; the
//                                                      digest computed, and checked when asked for
//   .blob({ digest, size }): Download                  { body, total() }: the body errors at
//                                                      its end unless the bytes hash to digest
//   .blobBytes({ digest, size }, max): Promise<Uint8Array>    a small blob (a config), whole
import { MycfsError } from "../errors";
import { type Download, type DownloadOptions, download, type Source } from "../images/download";
import { readBody } from "./body";
import { sha256, verified } from "./digest";
import { Endpoint, type EndpointOptions, registryErrors, saying } from "./endpoint";
import { MANIFEST_ACCEPT, MEDIA } from "../images/manifest";
import { DIGEST } from "../images/source";

export interface RegistryOptions extends EndpointOptions {
  /** Attempts of a transfer after the first (default 3). */
  retries?: number;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  /** As the registry labelled it (Content-Type), for parseManifest. */
  mediaType: string;
  digest: string;
}

/** containerd's limit: manifests are small; a larger one is hostile. */
const MAX_MANIFEST = 4 << 20;
const RETRIES = 3;
const TIMEOUT_MS = 30_000;

export class Registry {
  readonly registry: string;
  readonly repository: string;
  /** registry/repository, as messages name it. */
  readonly name: string;
  private readonly endpoint: Endpoint;
  private readonly dl: DownloadOptions;

  constructor(ref: { registry: string; repository: string }, opts: RegistryOptions = {}) {
    this.registry = ref.registry;
    this.repository = ref.repository;
    this.name = `${ref.registry}/${ref.repository}`;
    this.endpoint = new Endpoint(ref.registry, opts);
    this.dl = { timeout: opts.timeout ?? TIMEOUT_MS, retries: opts.retries ?? RETRIES, signal: opts.signal ?? new AbortController().signal };
  }

  /** A download of one path of the repository; statuses that no retry mends end it. */
  private source(path: string, accept: string, what: string, seen?: (res: Response) => void): Source {
    return {
      name: what,
      open: async (offset, signal) => {
        const headers: Record<string, string> = { Accept: accept, ...(offset && { Range: `bytes=${offset}-` }) };
        const res = await this.endpoint.request(`/v2/${this.repository}${path}`, headers, `repository:${this.repository}:pull`, signal);
        // 2xx for download to check; 5xx and 408 for it to retry
        if (res.ok || res.status >= 500 || res.status === 408) {
          seen?.(res);
          return res;
        }
        throw await this.refusal(res, what);
      },
    };
  }

  private async refusal(res: Response, what: string): Promise<MycfsError> {
    const errors = await registryErrors(res);
    const said = saying(errors);
    const creds = this.endpoint.auth.credentials;
    const denied = () =>
      new MycfsError(
        `pull access denied for ${this.name}, or it does not exist${said}${
          creds ? ` (as ${creds.username}, from ${creds.file ?? "the options"})` : `; if it needs a login: mycfs login ${this.registry}`
        }`,
      );
    if (res.status === 401 || res.status === 403) return denied();
    if (res.status === 404) return errors.some((e) => e.code === "NAME_UNKNOWN") ? denied() : new MycfsError(`${what} not found${said}`);
    if (res.status === 429) {
      const after = res.headers.get("retry-after");
      return new MycfsError(`${this.registry} refused ${what}: too many requests (HTTP 429)${said}${after ? `; it asks to retry after ${after}` : ""}`);
    }
    return new MycfsError(`${this.registry} answered HTTP ${res.status} for ${what}${said}`);
  }

  async manifest(reference: string): Promise<FetchedManifest> {
    const byDigest = DIGEST.test(reference);
    const what = `manifest of ${this.name}${byDigest ? "@" : ":"}${reference}`;
    let res: Response | undefined;
    const d = download(
      this.source(`/manifests/${reference}`, MANIFEST_ACCEPT, what, (r) => (res = r)),
      this.dl,
    );
    const bytes = await readBody(d.body, MAX_MANIFEST);
    if (!bytes) throw new MycfsError(`${what} is larger than ${MAX_MANIFEST} bytes`);
    const digest = sha256(bytes);
    const mediaType = (res?.headers.get("content-type") ?? "").split(";")[0]!.trim();
    // a signed schema 1 manifest's digest is its payload's, without the signatures:
    // not checked here, as parseManifest refuses it with the reason
    const said = mediaType !== MEDIA.schema1Signed && (byDigest ? reference : res?.headers.get("docker-content-digest"));
    if (said && DIGEST.test(said) && said !== digest) throw new MycfsError(`digest mismatch: ${what} has ${digest}, expected ${said}`);
    return { bytes, mediaType, digest };
  }

  blob(desc: { digest: string; size: number }): Download {
    const what = `blob ${desc.digest} of ${this.name}`;
    const d = download(this.source(`/blobs/${desc.digest}`, "*/*", what), this.dl);
    return { body: verified(d.body, desc, what), total: () => desc.size };
  }

  async blobBytes(desc: { digest: string; size: number }, max: number): Promise<Uint8Array> {
    if (desc.size > max) throw new MycfsError(`blob ${desc.digest} of ${this.name} has ${desc.size} bytes; mycfs reads such a blob only up to ${max}`);
    return (await readBody(this.blob(desc).body, max))!;
  }
}
