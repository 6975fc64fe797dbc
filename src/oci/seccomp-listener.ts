// SCMP_ACT_NOTIFY's listener (config.json's linux.seccomp.listenerPath): a filter's
// notification fd goes there with runtime-spec's container process state, one connection
// each, for the container's process (create) and for each process exec'd into it.
import { SysError } from "../errors";
import { close, sendFd } from "../native/lib";
import type { SeccompListener } from "./config";
import { OCI_VERSION, ociError } from "./state";

/** Sends fd, the notification fd of process `pid`'s filter, with the container's state,
 * then closes mycfs's copy. */
export function sendToListener(l: SeccompListener, fd: number, pid: number, state: object) {
  const message = { ociVersion: OCI_VERSION, fds: ["seccompFd"], pid, ...(l.metadata ? { metadata: l.metadata } : {}), state };
  try {
    sendFd(l.path, fd, JSON.stringify(message), `config.json: linux.seccomp.listenerPath: send the seccomp notification fd to ${l.path}`);
  } catch (e) {
    throw e instanceof SysError ? ociError(e.message) : e; // runc's exit status, as the config's other errors
  } finally {
    close(fd);
  }
}
