// `spec`: the config.json runc writes for a new bundle (runc's specconv.Example), and its
// rootless variant; `features`: runtime-spec's features document, saying what mycfs
// honours. Both are data, kept apart from the code that reads configs.
import { CAPABILITIES } from "../container/caps";
import { ACTIONS, OPS } from "../seccomp/profile";
import { SECCOMP_FLAGS } from "./config";
import { MOUNT_FLAGS, PROPAGATION, RECURSIVE_FLAGS } from "../container/mounts";
import { OCI_VERSION } from "./state";
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from "../spec/spec";

const DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

export function defaultSpec(rootless: boolean, uid = 0, gid = 0) {
  const spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "mycfs",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ] as { destination: string; type: string; source: string; options?: string[] }[],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] } as Record<string, unknown>,
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "cgroup" }] as { type: string }[],
      // docker's lists (mycfs's own front end's); a directory is masked by the child's look
      maskedPaths: DEFAULT_MASKED_PATHS.map((p) => p.replace(/\/$/, "")),
      readonlyPaths: DEFAULT_READONLY_PATHS,
    } as Record<string, unknown>,
  };
  if (!rootless) return spec;
  // runc's ToRootless: the caller's ids mapped to root, the host's /sys bound, no limits
  const linux = spec.linux;
  delete linux.resources;
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  linux.namespaces = [...(linux.namespaces as { type: string }[]).filter((n) => n.type !== "network" && n.type !== "cgroup"), { type: "user" }];
  spec.mounts = spec.mounts
    .filter((m) => m.type !== "cgroup")
    .map((m) =>
      m.destination === "/sys"
        ? { destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] }
        : m.destination === "/dev/pts"
          ? { ...m, options: m.options!.filter((o) => o !== "gid=5") }
          : m.destination === "/dev/mqueue"
            ? { destination: "/dev/mqueue", type: "bind", source: "/dev/mqueue", options: ["rbind", "nosuid", "noexec", "nodev"] }
            : m,
    );
  return spec;
}

/** runtime-spec's features.md document. */
export function features() {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: OCI_VERSION,
    hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
    mountOptions: [...MOUNT_FLAGS.keys(), ...PROPAGATION.keys(), ...RECURSIVE_FLAGS.keys(), "idmap", "ridmap"].sort(),
    linux: {
      namespaces: ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
      capabilities: CAPABILITIES.map((c) => `CAP_${c}`),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: Object.keys(ACTIONS).sort(),
        operators: [...OPS].sort(),
        archs: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_X86_64"],
        knownFlags: Object.keys(SECCOMP_FLAGS),
        supportedFlags: Object.keys(SECCOMP_FLAGS),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: { "org.opencontainers.runtime-spec.features.runtime": "mycfs" },
  };
}
