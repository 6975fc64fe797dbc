// Image references as users write them: NAME[:TAG] (alpine, alpine:3.22, busybox) or the
// http(s) URL of a tarball. Each names one record in the store.
import { MycfsError } from "../errors";

export interface ImageRef {
  /** How mycfs shows it: alpine:3.22, or the URL. */
  display: string;
  name: string;
  tag: string;
  /** Its record's path below {store}/images, without ".json". */
  key: string;
  url?: string;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function parseRef(ref: string): ImageRef {
  if (/^https?:\/\//i.test(ref)) {
    if (!URL.canParse(ref)) throw new MycfsError(`image URL '${ref}' is not a valid URL`);
    // URLs hold any character: their records go by a hash ("_" starts no NAME)
    return { display: ref, name: ref, tag: "", key: `_url/${Bun.hash(ref).toString(16)}`, url: ref };
  }
  const [name = "", tag = "latest", ...rest] = ref.split(":");
  if (rest.length || !NAME.test(name) || !TAG.test(tag))
    throw new MycfsError(`image name '${ref}' is not valid: use NAME[:TAG] (lower-case letters, digits, '.', '_', '-') or an http(s):// URL`);
  return { display: `${name}:${tag}`, name, tag, key: `${name}/${tag}` };
}
