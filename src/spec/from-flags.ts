// The first front end of the spec: `mycfs run`'s docker-style flags, validated by
// src/cli/run.ts, as a ContainerSpec (docker's defaults where a flag is not given).
import type { Device } from "../container/devices";
import type { Tmpfs, Volume } from "../container/options";
import type { Rlimit } from "../container/rlimits";
import type { Privileges } from "../container/security";
import type { Userns } from "../container/userns";
import { processCaps } from "../container/caps";
import { etcMounts } from "../network/files";
import { type ContainerSpec, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, type IdMapping, type Mount, type Namespace, type ProcessUser } from "./spec";

export interface RunFlags {
  argv: string[];
  env: string[];
  workdir: string;
  user: ProcessUser;
  hostname: string;
  volumes: Volume[];
  tmpfs: Tmpfs[];
  readOnly: boolean;
  init: boolean;
  pivot: boolean;
  rlimits: Rlimit[];
  privileges: Privileges;
  /** The compiled filter of privileges.seccomp. */
  seccomp: Uint8Array | null;
  devices: Device[];
  cgroupns: boolean;
  userns?: Userns;
  /** The container's network namespace: a new one, the host's, or the one at path, joined. */
  netns: "new" | "host" | { path: string };
  /** Where mycfs writes the container's /etc/hostname, hosts and resolv.conf. */
  etcDir: string;
}

const mappings = (ranges: Userns["uids"] = []): IdMapping[] => ranges.map((r) => ({ containerID: r.inside, hostID: r.outside, size: r.size }));

export function specFromFlags(f: RunFlags): ContainerSpec {
  const caps = [...f.privileges.caps];
  const types: Namespace[] = ["pid", "network", "ipc", "uts", "mount", ...(f.cgroupns ? ["cgroup" as const] : []), ...(f.userns ? ["user" as const] : [])];
  const namespaces = types.flatMap((type) => {
    if (type !== "network" || f.netns === "new") return [{ type }];
    return f.netns === "host" ? [] : [{ type, path: f.netns.path }];
  });
  const userMounts: Mount[] = [
    ...f.volumes.map((v) => ({
      destination: v.container,
      type: "bind" as const,
      source: v.host,
      options: ["rbind", ...(v.readOnly ? ["ro"] : [])],
      file: !v.isDir,
    })),
    ...f.tmpfs.map((t) => ({
      destination: t.path,
      type: "tmpfs" as const,
      source: "tmpfs",
      options: t.options,
    })),
  ];
  const mounts = [...userMounts, ...etcMounts(f.etcDir, new Set(userMounts.map((m) => m.destination)))];
  return {
    process: {
      args: f.argv,
      env: f.env,
      cwd: f.workdir,
      user: f.user,
      capabilities: processCaps(caps, f.user.uid),
      rlimits: f.rlimits,
      noNewPrivileges: f.privileges.noNewPrivs,
    },
    root: { readonly: f.readOnly },
    hostname: f.hostname,
    mounts,
    linux: {
      namespaces,
      uidMappings: mappings(f.userns?.uids),
      gidMappings: mappings(f.userns?.gids),
      devices: f.devices,
      seccomp: f.seccomp,
      // --privileged: none (docker's meaning)
      maskedPaths: f.privileges.maskPaths ? DEFAULT_MASKED_PATHS : [],
      readonlyPaths: f.privileges.maskPaths ? DEFAULT_READONLY_PATHS : [],
    },
    mycfs: { init: f.init, pivot: f.pivot },
  };
}
