// -p [IP:]HOST:CTR[/tcp|udp] and -P: which host ports lead to which of the container's.
// A port taken on the host is refused before the container starts: mycfs binds it once
// to see (the DNAT rule would otherwise hide whatever listens there).
import { MycfsError } from "../errors";
import { ipNumber } from "./subnet";

export type Proto = "tcp" | "udp";

export interface Port {
  /** The host address it is published on; absent: every one. */
  hostIp?: string;
  hostPort: number;
  containerPort: number;
  proto: Proto;
}

const portNumber = (s: string, spec: string, zero: boolean) => {
  const n = /^\d{1,5}$/.test(s) ? Number(s) : -1;
  if (n < (zero ? 0 : 1) || n > 65535) throw new MycfsError(`-p ${spec}: '${s}' is no port number (1-65535)`);
  return n;
};

/** -p's value; a host port of 0 or none: one the kernel picks (docker's -p CTR). */
export function parsePublish(spec: string): Port {
  const [addr, proto = "tcp", ...extra] = spec.split("/");
  if (extra.length || (proto !== "tcp" && proto !== "udp")) throw new MycfsError(`-p ${spec}: expected [IP:]HOST:CTR[/tcp|udp]`);
  const parts = addr!.split(":");
  if (parts.length > 3) throw new MycfsError(`-p ${spec}: expected [IP:]HOST:CTR[/tcp|udp] (IPv6 host addresses are not supported)`);
  const containerPort = portNumber(parts.at(-1)!, spec, false);
  const hostPort = parts.length > 1 && parts.at(-2) !== "" ? portNumber(parts.at(-2)!, spec, true) : 0;
  const hostIp = parts.length === 3 && parts[0] !== "" ? parts[0] : undefined;
  if (hostIp !== undefined && ipNumber(hostIp) === null) throw new MycfsError(`-p ${spec}: '${hostIp}' is no IPv4 address`);
  return { ...(hostIp && hostIp !== "0.0.0.0" ? { hostIp } : {}), hostPort, containerPort, proto };
}

/** -P: each of the image's ExposedPorts ("80/tcp"), on a port the kernel picks. */
export function exposedPorts(exposed: Record<string, unknown> | undefined): Port[] {
  return Object.keys(exposed ?? {}).map((k) => {
    const [port = "", proto = "tcp"] = k.split("/");
    if (!/^\d+$/.test(port) || (proto !== "tcp" && proto !== "udp")) throw new MycfsError(`the image's ExposedPorts has '${k}': expected PORT/tcp or PORT/udp`);
    return { hostPort: 0, containerPort: Number(port), proto };
  });
}

export const portKey = (p: Port) => `${p.hostIp ?? "0.0.0.0"}:${p.hostPort}/${p.proto}`;
/** As docker's ps shows it: 0.0.0.0:8080->80/tcp. */
export const portString = (p: Port) => `${p.hostIp ?? "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.proto}`;

/** Binds the host port once, to see it is free (and to learn the port the kernel picks
 * for 0); the socket is closed again at once. */
async function probe(p: Port): Promise<number> {
  const hostname = p.hostIp ?? "0.0.0.0";
  try {
    if (p.proto === "udp") {
      const s = await Bun.udpSocket({ hostname, port: p.hostPort });
      const port = s.port;
      s.close();
      return port;
    }
    const s = Bun.listen({ hostname, port: p.hostPort, socket: { data() {} } });
    const port = s.port;
    s.stop(true);
    return port;
  } catch (e) {
    throw new MycfsError(`-p ${portString(p)}: the host's port ${p.hostPort}/${p.proto} cannot be used (${(e as Error).message}): choose another host port`);
  }
}

/** The ports with each host port checked free, and those of 0 picked. */
export async function claimPorts(ports: Port[]): Promise<Port[]> {
  const seen = new Set<string>();
  const out: Port[] = [];
  for (const p of ports) {
    const hostPort = await probe(p);
    const q = { ...p, hostPort };
    if (seen.has(portKey(q))) throw new MycfsError(`-p ${portString(q)}: that host port is published twice`);
    seen.add(portKey(q));
    out.push(q);
  }
  return out;
}
