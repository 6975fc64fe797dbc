// --network bridge and -p, end to end, wholly inside network namespaces of the test's own
// (sandbox.ts): nothing here makes a link, an address, a rule or a sysctl in the host's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRef } from "../../src/images/refs";
import { Store } from "../../src/images/store";
import { isStale, readLeases } from "../../src/network/ipam";
import { mycfs, overlayMount, tempDir, testStore } from "../helpers";
import { netSandbox, SANDBOX_IP, SANDBOX_IP6, SERVER, SERVER6, untilPrinted } from "./sandbox";

const store = testStore("bridge");
let sb: Awaited<ReturnType<typeof netSandbox>>;
const m = (args: string[]) => mycfs(args, { env: { MYCFS_ROOT: store.root, MYCFS_STATE: sb.state }, wrap: sb.wrap });
const HTTPD = ["sh", "-c", "mkdir /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 80 -h /www"];

async function detached(args: string[], cmd: string[]): Promise<string> {
  const r = await m(["run", "-d", "--network", "bridge", ...args, "busybox", ...cmd]);
  if (r.code !== 0) throw new Error(`run -d failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}
const stateOf = (id: string) => JSON.parse(readFileSync(join(sb.state, id, "state.json"), "utf8"));
/** The leases held: an ended container's stays, stale, until the next start takes it back. */
const leases = () => readLeases(sb.state).filter((l) => !isStale(l));
const portRules = () => sb.inSandbox("nft list chain inet mycfs ports 2>/dev/null || true");
const veths = () =>
  sb
    .inSandbox("ip -o link show type veth")
    .split("\n")
    .filter((l) => l.includes("veth"));

/** curl's output, retried while the server in the container starts. */
async function fetchIn(where: (script: string) => string, url: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return where(`curl -sf -m 2 ${url}`);
    } catch (e) {
      if (i === 50) throw e;
      await Bun.sleep(100);
    }
  }
}

/** Until what the kernel removes in its own time (a veth, with its namespace) is gone. */
async function eventually(check: () => boolean) {
  for (let i = 0; i < 50 && !check(); i++) await Bun.sleep(100);
  expect(check()).toBe(true);
}

beforeAll(async () => {
  sb = await netSandbox("bridge-ns");
  // a new namespace starts with the host's ip_forward (IPv4 copies init_net's): off here
  sb.inSandbox("echo 0 > /proc/sys/net/ipv4/ip_forward");
  // an uplink that takes no router advertisements, so that mycfs may forward IPv6 (see "IPv6
  // forwarding is left off" for one that does)
  sb.inSandbox("echo 0 > /proc/sys/net/ipv6/conf/uplink/accept_ra");
  // bridged frames kept out of netfilter, as on a host without br_netfilter, where
  // conntrack would otherwise undo a hairpin's DNAT on the answer by itself
  sb.inSandbox("f=/proc/sys/net/bridge/bridge-nf-call-iptables; if [ -e $f ]; then echo 0 > $f; fi");
});

afterAll(async () => {
  // whatever a failed test left, one by one: rm stops at the first it cannot remove
  for (const id of (await m(["ps", "-aq"])).stdout.split("\n").filter(Boolean)) await m(["rm", "-f", id]);
  await sb.cleanup();
  store.cleanup();
});

describe("--network bridge", () => {
  test("a container gets eth0 on mycfs0 and reaches the outside through masquerade", async () => {
    const r = await m(["run", "--rm", "--network", "bridge", "busybox", "sh", "-c", `ip -4 -o addr show eth0; ip route; timeout 5 wget -qO- ${SERVER}`]);
    expect(r.stderr).toContain("net.ipv4.ip_forward was off: mycfs turned it on"); // in the sandbox only
    expect(r.stderr).toContain("net.ipv6.conf.all.forwarding was off: mycfs turned it on");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/eth0\s+inet 10\.87\.0\.\d+\/16/);
    expect(r.stdout).toContain("default via 10.87.0.1 dev eth0");
    // the outside saw the sandbox's address, not the container's
    expect(r.stdout.trim().split("\n").at(-1)).toBe(SANDBOX_IP);
    expect(sb.inSandbox("cat /proc/sys/net/ipv4/ip_forward").trim()).toBe("1");
    // gone with it: its veth, its lease
    await eventually(() => veths().length === 0);
    expect(leases()).toEqual([]);
  });

  test("IPv6: eth0's twin address, the route, masquerade to the outside, and another container", async () => {
    const id = await detached(["--hostname", "web6"], HTTPD);
    const { ip, ip6 } = stateOf(id).network;
    expect(ip6).toEqual({ ip: expect.stringMatching(/^fd87:6d79:6366::[0-9a-f]+$/), prefix: 64, gateway: "fd87:6d79:6366::1" });
    // the same host number as its IPv4 address
    expect(Number.parseInt(ip6.ip.split(":").at(-1), 16)).toBe(Number(ip.split(".")[3]) + 256 * Number(ip.split(".")[2]));
    const script = `ip -6 -o addr show eth0 scope global; ip -6 route; grep box6 /etc/hosts; timeout 5 wget -qO- ${SERVER6}; echo; wget -qO- http://[${ip6.ip}]/`;
    const r = await m(["run", "--rm", "--network", "bridge", "--hostname", "box6", "busybox", "sh", "-c", script]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/eth0\s+inet6 fd87:6d79:6366::[0-9a-f]+\/64 scope global/);
    expect(r.stdout).toMatch(/^default via fd87:6d79:6366::1 dev eth0/m);
    expect(r.stdout).toMatch(/^10\.87\.0\.\d+\tbox6\nfd87:6d79:6366::[0-9a-f]+\tbox6$/m);
    // the outside saw the sandbox's address (forwarding is on: beforeAll), the other container answered
    expect(r.stdout).toContain(`${SANDBOX_IP6}\nhello from web6\n`);
    expect(sb.inSandbox("cat /proc/sys/net/ipv6/conf/all/forwarding").trim()).toBe("1");
    expect((await m(["rm", "-f", id])).code).toBe(0);
  });

  test("its /etc/hosts names it by its address; host-gateway is the bridge's", async () => {
    const r = await m([
      "run",
      "--rm",
      "--network",
      "bridge",
      "--hostname",
      "box",
      "--add-host",
      "gw:host-gateway",
      "busybox",
      "sh",
      "-c",
      "cat /etc/hosts; ping -c1 -W2 gw",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^10\.87\.0\.\d+\tbox$/m);
    expect(r.stdout).toContain("10.87.0.1\tgw\n");
    expect(r.stdout).toContain("PING gw (10.87.0.1)");
    expect(r.stdout).not.toContain("127.0.1.1");
  });

  test("a second attempt (a store on overlayfs: a copy of the image) gets its eth0 again", async () => {
    const overlay = overlayMount(tempDir("bridge-on-overlay"));
    try {
      const args = [
        "run",
        "--rm",
        "--debug",
        "--root",
        join(overlay.merged, "store"),
        "--network",
        "bridge",
        "busybox",
        "timeout",
        "5",
        "wget",
        "-qO-",
        SERVER,
      ];
      const r = await mycfs(args, { env: { MYCFS_STATE: sb.state }, wrap: sb.wrap });
      expect(r.stderr).toMatch(/overlayfs cannot be mounted here .*: copying the image instead/);
      expect(r.stdout).toBe(SANDBOX_IP);
      expect(leases()).toEqual([]);
    } finally {
      overlay.remove();
    }
  });

  test("two containers talk over the bridge", async () => {
    const id = await detached(["--hostname", "web"], HTTPD);
    const ip = stateOf(id).network.ip;
    expect(ip).toMatch(/^10\.87\.0\.\d+$/);
    const r = await m([
      "run",
      "--rm",
      "--network",
      "bridge",
      "busybox",
      "sh",
      "-c",
      `for i in $(seq 50); do timeout 2 wget -qO- http://${ip}/ && exit; sleep 0.1; done; exit 1`,
    ]);
    expect(r.stdout).toBe("hello from web\n");
    expect((await m(["rm", "-f", id])).code).toBe(0);
  });

  test("concurrent starts get distinct addresses", async () => {
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => m(["run", "--rm", "--network", "bridge", "busybox", "sh", "-c", "ip -4 -o addr show eth0; sleep 1"])),
    );
    const ips = runs.map((r) => r.stdout.match(/inet (10\.87\.0\.\d+)/)?.[1]);
    expect(ips.every(Boolean)).toBe(true);
    expect(new Set(ips).size).toBe(4);
    expect(leases()).toEqual([]);
  });

  test("the container's setup failing leaves no veth, rule or lease", async () => {
    const r = await m(["run", "--rm", "--network", "bridge", "-p", "8090:80", "busybox", "/no/such/command"]);
    expect(r.code).toBe(127);
    await eventually(() => veths().length === 0);
    expect(portRules()).not.toContain("dnat");
    expect(leases()).toEqual([]);
  });
});

describe("-p", () => {
  test("a published port is reached from the outside and from the sandbox's loopback; rm -f takes its rule away", async () => {
    const id = await detached(["-p", "8080:80", "--hostname", "published"], HTTPD);
    expect(portRules()).toContain(`mycfs:${id}`);
    expect((await m(["ps"])).stdout).toMatch(/ bridge:10\.87\.0\.\d+ 0\.0\.0\.0:8080->80\/tcp /);
    expect(await fetchIn(sb.outside, `http://${SANDBOX_IP}:8080/`)).toBe("hello from published\n");
    expect(await fetchIn(sb.inSandbox, "http://127.0.0.1:8080/")).toBe("hello from published\n");
    expect(await fetchIn(sb.outside, `http://[${SANDBOX_IP6}]:8080/`)).toBe("hello from published\n");
    // another container, through the host's address (hairpin)
    const other = await m(["run", "--rm", "--network", "bridge", "busybox", "timeout", "5", "wget", "-qO-", `http://${SANDBOX_IP}:8080/`]);
    expect(other.stdout).toBe("hello from published\n");
    expect((await m(["rm", "-f", id])).code).toBe(0);
    expect(portRules()).not.toContain(id);
    expect(leases()).toEqual([]);
    await eventually(() => veths().length === 0);
  });

  test("without a host port, the kernel picks one (as -P does for each exposed port)", async () => {
    const id = await detached(["-p", "80", "--hostname", "picked"], HTTPD);
    const [port] = stateOf(id).network.ports;
    expect(port).toMatchObject({ containerPort: 80, proto: "tcp" });
    expect(port.hostPort).toBeGreaterThan(1024);
    expect(await fetchIn(sb.outside, `http://${SANDBOX_IP}:${port.hostPort}/`)).toBe("hello from picked\n");
    expect((await m(["rm", "-f", id])).code).toBe(0);
  });

  test("-P publishes the image's ExposedPorts", async () => {
    // the test's own store: its busybox record given ExposedPorts
    const file = new Store(store.root).imageFile(parseRef("busybox"));
    const image = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...image, config: { ...image.config, ExposedPorts: { "80/tcp": {} } } }));
    try {
      const id = await detached(["-P", "--hostname", "exposed"], HTTPD);
      const [port] = stateOf(id).network.ports;
      expect(port).toMatchObject({ containerPort: 80, proto: "tcp" });
      expect(await fetchIn(sb.outside, `http://${SANDBOX_IP}:${port.hostPort}/`)).toBe("hello from exposed\n");
      expect((await m(["rm", "-f", id])).code).toBe(0);
    } finally {
      writeFileSync(file, JSON.stringify(image));
    }
  });

  test("an IP of the host's limits the port to it", async () => {
    const id = await detached(["-p", `127.0.0.1:8081:80`, "--hostname", "local"], HTTPD);
    expect(await fetchIn(sb.inSandbox, "http://127.0.0.1:8081/")).toBe("hello from local\n");
    expect(() => sb.outside(`curl -sf -m 1 http://${SANDBOX_IP}:8081/`)).toThrow();
    expect((await m(["rm", "-f", id])).code).toBe(0);
  });

  test("a host port in use is refused before the container starts", async () => {
    const listener = sb.spawnInSandbox([
      process.execPath,
      "-e",
      `Bun.listen({ hostname: "0.0.0.0", port: 9090, socket: { data() {} } }); console.log("listening")`,
    ]);
    await untilPrinted(listener, "listening");
    const r = await m(["run", "--rm", "--network", "bridge", "-p", "9090:80", "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("port 9090/tcp cannot be used");
    listener.kill();
    await listener.exited;
    // published by another container
    const id = await detached(["-p", "9091:80"], HTTPD);
    const again = await m(["run", "--rm", "--network", "bridge", "-p", "9091:80", "busybox", "true"]);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain(`container ${id.slice(0, 12)} publishes that host port already`);
    expect((await m(["rm", "-f", id])).code).toBe(0);
    expect(leases()).toEqual([]);
  });

  test("after kill -9 of mycfs, recovery removes the rules, the veth and the lease", async () => {
    const id = await detached(["-p", "8082:80"], HTTPD);
    const s = stateOf(id);
    expect(veths().join("\n")).toContain(s.network.veth);
    process.kill(s.supervisor.pid, "SIGKILL");
    await eventually(() => !existsSync(`/proc/${s.container.pid}`));
    expect(portRules()).toContain(id); // nothing has cleaned up yet
    const ps = await m(["ps", "-a"]);
    expect(ps.code).toBe(0);
    expect(portRules()).not.toContain(id);
    expect(leases()).toEqual([]);
    await eventually(() => veths().length === 0);
    expect((await m(["rm", id])).code).toBe(0);
  });

  test("the lease of a killed mycfs is taken back by the next start, with its rules, before any recovery", async () => {
    const id = await detached(["-p", "8083:80"], HTTPD);
    const s = stateOf(id);
    process.kill(s.supervisor.pid, "SIGKILL");
    await eventually(() => !existsSync(`/proc/${s.container.pid}`));
    // no ps between: the stale lease still holds its port and address
    expect(readLeases(sb.state).map((l) => l.id)).toEqual([id]);
    const next = await detached(["-p", "8083:80", "--hostname", "next"], HTTPD);
    expect(leases().map((l) => l.id)).toEqual([next]);
    expect(portRules()).not.toContain(id);
    expect(await fetchIn(sb.outside, `http://${SANDBOX_IP}:8083/`)).toBe("hello from next\n");
    expect((await m(["rm", "-f", next, id])).code).toBe(0);
  });

  test("-p needs the bridge: refused with --network none", async () => {
    const r = await m(["run", "--rm", "--network", "none", "-p", "8080:80", "busybox", "true"]);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("add --network bridge");
  });
});

describe("mycfs network", () => {
  test("ls shows the bridge; rm refuses while a container uses it; prune removes it all", async () => {
    const id = await detached([], ["sleep", "30"]);
    const ls = await m(["network", "ls"]);
    expect(ls.stdout).toMatch(/^bridge\tmycfs0\t10\.87\.0\.0\/16,fd87:6d79:6366::\/64\t10\.87\.0\.1,fd87:6d79:6366::1\t1$/m);
    const rm = await m(["network", "rm", "bridge"]);
    expect(rm.code).toBe(125);
    expect(rm.stderr).toContain(id.slice(0, 12));
    expect((await m(["network", "prune"])).stdout).toBe(""); // in use: kept
    expect((await m(["rm", "-f", id])).code).toBe(0);
    expect((await m(["network", "prune"])).stdout).toBe("bridge\n");
    expect((await m(["network", "ls"])).stdout.trim().split("\n")).toHaveLength(1);
    expect(sb.inSandbox("ip -o link show mycfs0 2>/dev/null || true")).toBe("");
    expect(sb.inSandbox("nft list tables")).not.toContain("mycfs");
    expect((await m(["network", "rm", "bridge"])).code).toBe(125); // nothing left to remove
  });
});

describe("IPv6 forwarding is left off", () => {
  test("where a link takes router advertisements; containers keep IPv6 on the bridge; MYCFS_SUBNET6=none: IPv4 only", async () => {
    const own = await netSandbox("bridge-ra");
    const run = (script: string, env: Record<string, string> = {}) =>
      mycfs(["run", "--rm", "--network", "bridge", "busybox", "sh", "-c", script], {
        env: { MYCFS_ROOT: store.root, MYCFS_STATE: own.state, ...env },
        wrap: own.wrap,
      });
    try {
      // the uplink's accept_ra is 1, a new namespace's default
      const r = await run("ping -c1 -W2 fd87:6d79:6366::1 >/dev/null && echo gateway; timeout 3 wget -qO- http://[2001:db8::2]:8000/ || echo unreachable");
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        "IPv6 forwarding is off, and turning it on would stop uplink taking router advertisements (accept_ra=1): containers' IPv6 reaches this host and each other only",
      );
      expect(r.stdout).toBe("gateway\nunreachable\n");
      expect(own.inSandbox("cat /proc/sys/net/ipv6/conf/all/forwarding").trim()).toBe("0");
      const v4only = await run("ip -6 -o addr show eth0 scope global | wc -l", { MYCFS_SUBNET6: "none" });
      expect(v4only.stdout.trim()).toBe("0");
      const bad = await run("true", { MYCFS_SUBNET6: "fd87::/120" });
      expect(bad.code).toBe(125);
      expect(bad.stderr).toContain("MYCFS_SUBNET6=fd87::/120: expected an IPv6 network as ADDRESS/PREFIX with a prefix of 64 to 112");
    } finally {
      await own.cleanup(); // its bridge, table and state with it
    }
  });
});
