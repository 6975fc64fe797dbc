// The container's /etc/hostname, /etc/hosts and /etc/resolv.conf: mycfs writes them into
// the container's record directory (removed with it) before the child mounts them, and
// binds each over the image's, which stays as it is. Bound writable, as docker does: they
// are the container's own files. A target is resolved inside the root, through the image's
// symlinks, and made if missing, as every mount target is; a -v on the same path wins.
import { join } from "../paths";
import { readFile, replaceFile, writeFile } from "../native/lib";
import type { Mount } from "../spec/spec";
import { type ExtraHost, hostsFile } from "./hosts";
import { containerResolvConf, type DnsFlags } from "./resolv";

export const ETC_FILES = ["hostname", "hosts", "resolv.conf"] as const;
export type EtcFiles = Record<(typeof ETC_FILES)[number], string>;

/** The files' text; hostNet: in the host's network namespace; addresses: the container's
 * own on the bridge network, known once they are leased (container/start.ts); gatewayDns:
 * the network's own DNS forwarder, first (slirp4netns's, as podman does). */
export type EtcFilesOf = (addresses?: string[]) => EtcFiles;

export function etcFiles(hostname: string, hostNet: boolean, extraHosts: ExtraHost[], dns: DnsFlags, gatewayDns?: string): EtcFilesOf {
  const hostHosts = hostNet ? (readFile("/etc/hosts") ?? "") : null;
  const resolv = containerResolvConf(hostNet, dns, gatewayDns);
  return (addresses) => ({ hostname: `${hostname}\n`, hosts: hostsFile(hostname, extraHosts, hostHosts, addresses), "resolv.conf": resolv });
}

/** The binds of the files in `dir` on /etc, but where the user mounts something; none on
 * a read-only root that lacks the file (a --rootfs bound read-only, mycfs inside mycfs). */
export function etcMounts(dir: string, taken: ReadonlySet<string>): Mount[] {
  return ETC_FILES.map((name) => ({
    destination: `/etc/${name}`,
    type: "bind" as const,
    source: join(dir, name),
    options: [],
    file: true,
    optional: true,
  })).filter((m) => !taken.has(m.destination));
}

/** The bridge's /etc/hosts, once the container's addresses are leased (while the child
 * makes its mounts: start.ts): written into the file the child binds, in place, as the
 * bind holds that file; it was empty until then (writeEtcFiles, `hosts: ""`), and no
 * process of the container runs before this is done. */
export function fillHosts(dir: string, hosts: string) {
  writeFile(join(dir, "hosts"), hosts);
}

/** Writes the files into dir, readable by every user of the container. */
export function writeEtcFiles(dir: string, files: EtcFiles) {
  for (const name of ETC_FILES) replaceFile(join(dir, name), files[name], 0o644);
}
