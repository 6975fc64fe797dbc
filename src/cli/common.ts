// Options every command that touches the store takes.
import type { ArgsDef } from "citty";

export const storeArgs = {
  root: { type: "string", valueHint: "DIR", description: "image and container store (default /var/lib/mycfs, or $MYCFS_ROOT)" },
  state: { type: "string", valueHint: "DIR", description: "container state directory (default /run/mycfs, or $MYCFS_STATE; rootless: $XDG_RUNTIME_DIR/mycfs)" },
  debug: { type: "boolean", description: "explain each step and how long it took" },
} as const satisfies ArgsDef;
