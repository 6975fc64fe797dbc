// A network namespace to join (--network container:NAME, ns:PATH), opened by mycfs before
// the clone, so that what is joined is the namespace checked here: the child setns's the
// fd (OP_SETNS) and, as every fd but 0-2, closes it before exec.
import { openNamespaceFile } from "../container/namespaces";
import { MycfsError } from "../errors";
import { close, openNamespace } from "../native/lib";
import type { StateDir } from "../state/dir";
import { type ContainerState, isAlive, shortId } from "../state/record";
import { loadOne } from "../state/recover";
import type { NetworkMode, NetworkRecord } from "./mode";

export interface JoinedNetwork {
  fd: number;
  /** The namespace file, for the plan's words. */
  path: string;
  record: NetworkRecord;
}

/** The network namespace of another running container: its record's process, checked to be
 * that process (pid and start time) with the fd already open, so a recycled pid is never
 * joined. */
function containerNetns(ref: string, flag: string, state: StateDir): JoinedNetwork {
  let s: ContainerState;
  try {
    s = loadOne(state, ref);
  } catch (e) {
    throw e instanceof MycfsError ? new MycfsError(`--network ${flag}: ${e.message}`, e.exitCode, e) : e;
  }
  const name = s.name ?? shortId(s.id);
  const notRunning = () => new MycfsError(`--network ${flag}: container ${name} is not running; start it first (mycfs ps -a)`);
  if (s.status !== "running") throw notRunning();
  const path = `/proc/${s.container!.pid}/ns/net`;
  const ns = openNamespace(path);
  if (ns === null || !isAlive(s.container, s.bootId)) {
    if (ns) close(ns.fd);
    throw notRunning();
  }
  return { fd: ns.fd, path: `${path} (container ${name})`, record: { mode: "container", id: s.id } };
}

/** A network namespace file (ip netns add NAME makes /var/run/netns/NAME). */
export function openNetnsFile(given: string, flag: string): JoinedNetwork {
  const { fd, path } = openNamespaceFile(given, "network", flag);
  return { fd, path, record: { mode: "ns", path } };
}

/** The namespace a joined mode names, opened; undefined for the others. */
export function openNetwork(n: NetworkMode, flag: string, state: StateDir): JoinedNetwork | undefined {
  if (n.mode === "container") return containerNetns(n.ref, flag, state);
  if (n.mode === "ns") return openNetnsFile(n.path, `--network ${flag}`);
  return undefined;
}
