// The image a container starts from: its record in the store, pulled first when missing
// (or always, or never: --pull). On `mycfs run`'s start path: when the image is there,
// nothing but its record is read; the pulling code loads only when needed.
import { MycfsError } from "../errors";
import { EMBEDDED, embeddedRef, isEmbedded } from "./embedded";
import type { PullOptions } from "./pull";
import { parseRef } from "./refs";
import type { ImageRecord, Store } from "./store";

export const PULL_POLICIES = ["missing", "always", "never"] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** `why`: what makes the policy never, for the message when the image is missing. */
export async function ensureImage(store: Store, name: string, policy: PullPolicy, opts: PullOptions, why = "--pull=never"): Promise<ImageRecord> {
  const parsed = parseRef(name);
  const embedded = isEmbedded(parsed);
  const ref = embedded ? embeddedRef : parsed;
  const have = store.image(ref);
  // the embedded image is always this executable's own, whatever the policy
  if (have && store.hasLayers(have) && (embedded ? have.digest === EMBEDDED.digest : policy !== "always")) return have;
  if (policy === "never" && !embedded) throw new MycfsError(`image ${ref.display} is not in the store and ${why}; pull it first: mycfs pull ${ref.display}`);
  const { pullImage } = await import("./pull");
  return pullImage(store, ref, opts);
}
