// Image references as users write them, as docker reads them: [REGISTRY/]NAME[:TAG][@DIGEST]
// (a first component with a '.' or ':', or localhost, is a registry; short names are
// docker.io's, library/ for one component), or the http(s) URL of a tarball. Each names
// one record in the store, by its familiar form (docker.io/library/ left out, as docker
// shows it): `nginx` and `docker.io/library/nginx:latest` are one image, and a name
// given to `mycfs import` is one a pull of it would take.
// Two short names are mycfs's own rather than docker.io's: busybox (the embedded image,
// at its tag or latest) and alpine (Alpine's minirootfs from its mirrors, the same
// image); written with a registry they come from it.
import { MycfsError } from "../errors";

export interface ImageRef {
  /** How mycfs shows it: alpine:3.22, ghcr.io/org/tool:1.4, nginx@sha256:…, or the URL. */
  display: string;
  /** The repository's familiar name (alpine, org/tool, 127.0.0.1:5000/test/img). */
  name: string;
  /** The tag, or "" with a digest. */
  tag: string;
  digest?: string;
  /** Its record's path below {store}/images, without ".json". */
  key: string;
  url?: string;
  /** Where a registry pull fetches it, unless the name is mycfs's own (see above). */
  registry?: { host: string; repository: string };
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
export const DOCKER_HUB = "docker.io";
/** mycfs's own short names (see above). */
const OWN = new Set(["alpine", "busybox"]);

const invalid = (ref: string, why: string) =>
  new MycfsError(
    `image name '${ref}' is not valid (${why}): use [REGISTRY/]NAME[:TAG][@sha256:DIGEST] (lower-case letters, digits, '.', '_', '-'), or an http(s):// URL`,
  );

export function parseRef(ref: string): ImageRef {
  if (/^https?:\/\//i.test(ref)) {
    if (!URL.canParse(ref)) throw new MycfsError(`image URL '${ref}' is not a valid URL`);
    // URLs hold any character: their records go by a hash ("_" starts no NAME)
    return { display: ref, name: ref, tag: "", key: `_url/${Bun.hash(ref).toString(16)}`, url: ref };
  }
  const at = ref.indexOf("@");
  const digest = at < 0 ? undefined : ref.slice(at + 1);
  if (digest !== undefined && !DIGEST.test(digest)) throw invalid(ref, "a digest is sha256: and 64 hex digits");
  let rest = at < 0 ? ref : ref.slice(0, at);
  const colon = rest.lastIndexOf(":");
  let tag = digest ? "" : "latest";
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, `tag '${tag}'`);
  }
  const parts = rest.split("/");
  const first = parts[0] ?? "";
  const explicit = parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  const host = explicit ? parts.shift()! : DOCKER_HUB;
  if (explicit && !/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(host)) throw invalid(ref, `registry '${host}'`);
  if (!parts.length || parts.some((p) => !COMPONENT.test(p))) throw invalid(ref, "name");
  if (host === DOCKER_HUB && parts.length === 1) parts.unshift("library");
  const repository = parts.join("/");
  const familiar = host === DOCKER_HUB ? repository.replace(/^library\//, "") : `${host}/${repository}`;
  const own = !explicit && OWN.has(familiar);
  return {
    display: `${familiar}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`,
    name: familiar,
    tag,
    digest,
    key: `${familiar}/${tag || `@${digest}`}`,
    registry: own ? undefined : { host, repository },
  };
}
