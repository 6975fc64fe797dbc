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
import { DOCKER_HUB, parseReference } from "../registry/reference";

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

/** mycfs's own short names (see above). */
const OWN = new Set(["alpine", "busybox"]);

export function parseRef(text: string): ImageRef {
  if (/^https?:\/\//i.test(text)) {
    if (!URL.canParse(text)) throw new MycfsError(`image URL '${text}' is not a valid URL`);
    // URLs hold any character: their records go by a hash ("_" starts no NAME)
    return { display: text, name: text, tag: "", key: `_url/${Bun.hash(text).toString(16)}`, url: text };
  }
  const r = parseReference(text);
  const familiar = r.registry === DOCKER_HUB ? r.repository.replace(/^library\//, "") : `${r.registry}/${r.repository}`;
  const tag = r.digest ? "" : (r.tag ?? "latest");
  return {
    display: `${familiar}${tag ? `:${tag}` : ""}${r.digest ? `@${r.digest}` : ""}`,
    name: familiar,
    tag,
    digest: r.digest,
    key: `${familiar}/${tag || `@${r.digest}`}`,
    // a name without any path is mycfs's own, if it is one of them
    registry: !text.includes("/") && OWN.has(familiar) ? undefined : { host: r.registry, repository: r.repository },
  };
}
