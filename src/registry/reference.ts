// Image references as docker reads them: [REGISTRY/]NAME[:TAG][@DIGEST]. The first
// component of the name is a registry if it has a '.' or a ':', or is `localhost`; without
// one the registry is docker.io, where a one-component name is an official image
// (nginx → docker.io/library/nginx). A reference without tag or digest means :latest.
//
//   parseReference(s): Reference       the reference, or a MycfsError saying what is wrong
//   parseRegistry(s): string           a registry as `mycfs login` takes it (docker.io for
//                                      Docker Hub's names, a scheme and a path dropped)
//   apiHost(registry): string          the host that serves the registry's API
//   isLoopback(host): boolean          localhost, 127.0.0.0/8, ::1: plain http allowed
import { MycfsError } from "../errors";
import { DIGEST } from "../images/source";

export interface Reference {
  /** docker.io, quay.io, 127.0.0.1:5000, [::1]:5000. */
  registry: string;
  /** library/nginx, org/app. */
  repository: string;
  /** Present unless the reference names a digest alone. */
  tag?: string;
  /** sha256:<64 hex>: what is pulled when given (a tag beside it is only a name). */
  digest?: string;
  /** docker.io/library/nginx:latest, 127.0.0.1:5000/app@sha256:…. */
  display: string;
}

export const DOCKER_HUB = "docker.io";

const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME = 255;

/** Docker Hub's other names, in references and in docker's config.json. */
const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

export function parseReference(input: string): Reference {
  const bad = (why: string) => new MycfsError(`image reference '${input}' is not valid: ${why}`);
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`the digest must be sha256: and 64 lower-case hex digits, not '${digest}'`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`the tag '${tag}' may have up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'`);
  }
  const slash = rest.indexOf("/");
  const first = rest.slice(0, Math.max(slash, 0));
  const hasRegistry = slash > 0 && (/[.:]/.test(first) || first === "localhost" || first !== first.toLowerCase());
  let registry = hasRegistry ? first : DOCKER_HUB;
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (hasRegistry && !HOST.test(registry)) throw bad(`'${registry}' is not a registry's host[:port]`);
  if (!repository) throw bad("it names no image");
  if (HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (repository !== repository.toLowerCase()) throw bad("repository names must be lower-case");
  for (const c of repository.split("/"))
    if (!COMPONENT.test(c)) throw bad(`'${c}' is not a name component: lower-case letters and digits, separated by '.', '_', '__' or '-'`);
  if (`${registry}/${repository}`.length > MAX_NAME) throw bad(`the name is longer than ${MAX_NAME} characters`);
  if (!tag && !digest) tag = "latest";
  const display = `${registry}/${repository}${tag ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
  return { registry, repository, ...(tag && { tag }), ...(digest && { digest }), display };
}

export function parseRegistry(input: string): string {
  const host = input.replace(/^https?:\/\//i, "").replace(/\/.*$/, "");
  if (!HOST.test(host)) throw new MycfsError(`'${input}' is not a registry: give its host[:port], like quay.io or 127.0.0.1:5000`);
  return HUB_ALIASES.has(host.toLowerCase()) ? DOCKER_HUB : host.toLowerCase();
}

export const apiHost = (registry: string) => (registry === DOCKER_HUB ? "registry-1.docker.io" : registry);

/** localhost, 127.0.0.0/8 and ::1 (with or without a port): where plain http is allowed. */
export function isLoopback(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.split(":").length === 2 ? host.replace(/:\d+$/, "") : host;
  return name === "localhost" || name === "::1" || /^127(\.\d{1,3}){3}$/.test(name);
}
