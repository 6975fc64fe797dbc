// --network's values and the container's /etc files, without root.
import { describe, expect, test } from "bun:test";
import { hostsFile, parseAddHost } from "../src/network/hosts";
import { isIP } from "../src/network/ip";
import { checkNetworkUserns, networkText, parseNetwork } from "../src/network/mode";
import { checkDnsFlags, resolvConf } from "../src/network/resolv";
import { pastaArgv, SLIRP_DNS } from "../src/network/usernet";

describe("--network", () => {
  test("the modes, and an error naming the flag and what it takes", () => {
    expect(parseNetwork(undefined)).toEqual({ mode: "none" });
    expect(parseNetwork("host")).toEqual({ mode: "host" });
    expect(parseNetwork("pasta")).toEqual({ mode: "pasta" });
    expect(parseNetwork("slirp4netns")).toEqual({ mode: "slirp4netns" });
    expect(parseNetwork("container:web")).toEqual({ mode: "container", ref: "web" });
    expect(parseNetwork("ns:/var/run/netns/a")).toEqual({ mode: "ns", path: "/var/run/netns/a" });
    for (const bad of ["bridges", "container:", "ns:", "nonsense"])
      expect(() => parseNetwork(bad)).toThrow(`--network ${bad}: expected none, host, bridge, pasta, slirp4netns, container:NAME|ID or ns:PATH`);
  });

  test("a user namespace of the container's own takes only a new network namespace", () => {
    const userns = { uids: [], gids: [] };
    expect(() => checkNetworkUserns({ mode: "none" }, "none", userns)).not.toThrow();
    expect(() => checkNetworkUserns({ mode: "host" }, "host", userns)).toThrow("--network host: not for a container with --userns");
    expect(() => checkNetworkUserns({ mode: "container", ref: "a" }, "container:a", { ...userns, rootless: "own-id" })).toThrow(
      "--network container:a: a rootless container (in a user namespace of its own) cannot join an existing network namespace: setns needs CAP_SYS_ADMIN",
    );
    expect(() => checkNetworkUserns({ mode: "host" }, "host", undefined)).not.toThrow();
  });

  test("pasta and slirp4netns: rootless only", () => {
    const rootless = { uids: [], gids: [], rootless: "own-id" as const };
    for (const mode of ["pasta", "slirp4netns"] as const) {
      expect(() => checkNetworkUserns({ mode }, mode, rootless)).not.toThrow();
      for (const root of [undefined, { uids: [], gids: [] }])
        expect(() => checkNetworkUserns({ mode }, mode, root)).toThrow(
          `--network ${mode}: for rootless containers (mycfs run without root); as root, use --network bridge`,
        );
    }
  });

  test("as ps shows it", () => {
    expect(networkText(undefined)).toBe("none");
    expect(networkText({ mode: "container", id: "0123456789abcdef" })).toBe("container:0123456789ab");
    expect(networkText({ mode: "ns", path: "/x" })).toBe("ns:/x");
    const ports = [
      { hostPort: 8080, containerPort: 80, proto: "tcp" as const },
      { hostIp: "127.0.0.1", hostPort: 53, containerPort: 5353, proto: "udp" as const },
    ];
    expect(networkText({ mode: "pasta", ports, helper: { pid: 7, start: 1 } })).toBe("pasta 0.0.0.0:8080->80/tcp 127.0.0.1:53->5353/udp");
    expect(networkText({ mode: "slirp4netns", ports: [] })).toBe("slirp4netns");
  });

  test("pasta forwards -p's ports only, by protocol, each at its address", () => {
    const argv = pastaArgv(
      42,
      [
        { hostPort: 8080, containerPort: 80, proto: "tcp" },
        { hostIp: "127.0.0.1", hostPort: 8443, containerPort: 443, proto: "tcp" },
      ],
      "/t/pid",
    );
    expect(argv.join(" ")).toBe("pasta --config-net --quiet --no-map-gw -t 8080:80 -t 127.0.0.1/8443:443 -u none -T none -U none --pid /t/pid 42");
    expect(pastaArgv(42, [], "/t/pid").slice(4, 12)).toEqual(["-t", "none", "-u", "none", "-T", "none", "-U", "none"]);
  });
});

describe("/etc/hosts", () => {
  test("--add-host NAME:IP, v4 and v6; host-gateway and bad addresses refused", () => {
    expect(parseAddHost("db:10.0.0.2")).toEqual({ name: "db", ip: "10.0.0.2" });
    expect(parseAddHost("db=10.0.0.2")).toEqual({ name: "db", ip: "10.0.0.2" });
    expect(parseAddHost("v6:fd00::1")).toEqual({ name: "v6", ip: "fd00::1" });
    expect(parseAddHost("v6:[::1]")).toEqual({ name: "v6", ip: "::1" });
    expect(() => parseAddHost("gw:host-gateway")).toThrow("--add-host gw:host-gateway: host-gateway needs a bridge network");
    expect(parseAddHost("gw:host-gateway", "10.87.0.1")).toEqual({ name: "gw", ip: "10.87.0.1" });
    expect(() => parseAddHost("db:10.0.0.256")).toThrow("--add-host db:10.0.0.256: 10.0.0.256 is not an IPv4 or IPv6 address");
    expect(() => parseAddHost("db")).toThrow("--add-host db: expected NAME:IP");
    expect(isIP("1.2.3")).toBe(false);
    expect(isIP("::ffff:1.2.3.4")).toBe(true);
  });

  test("docker's lines, the extra hosts, the host name on 127.0.1.1; the host's file first in its namespace", () => {
    const own = hostsFile("box", [{ name: "db", ip: "10.0.0.2" }], null);
    expect(own).toStartWith("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    expect(own).toEndWith("10.0.0.2\tdb\n127.0.1.1\tbox\n");
    expect(hostsFile("box", [], "127.0.0.1 localhost\n10.1.1.1 lan\n\n")).toBe("127.0.0.1 localhost\n10.1.1.1 lan\n127.0.1.1\tbox\n");
  });
});

describe("/etc/resolv.conf", () => {
  const none = { dns: [], search: [], options: [] };
  const lines = (t: string) => t.split("\n").filter((l) => l && !l.startsWith("#"));
  const host = "nameserver 127.0.0.1\nnameserver 192.0.2.1\nsearch example.org\noptions ndots:2\n";

  test("the host's, without loopback nameservers; in the host's namespace unchanged", () => {
    expect(lines(resolvConf(host, () => null, false, none))).toEqual(["nameserver 192.0.2.1", "search example.org", "options ndots:2"]);
    expect(resolvConf(host, () => null, true, none)).toBe(host);
  });

  test("slirp4netns: its DNS forwarder first, then the host's; --dns instead of both", () => {
    expect(lines(resolvConf(host, () => null, false, none, SLIRP_DNS))).toEqual([
      "nameserver 10.0.2.3",
      "nameserver 192.0.2.1",
      "search example.org",
      "options ndots:2",
    ]);
    expect(lines(resolvConf("nameserver 127.0.0.1\n", () => null, false, none, SLIRP_DNS))).toEqual(["nameserver 10.0.2.3"]);
    expect(lines(resolvConf(host, () => null, false, { ...none, dns: ["192.0.2.9"] }, SLIRP_DNS))[0]).toBe("nameserver 192.0.2.9");
  });

  test("behind systemd-resolved's stub, its upstream servers; only loopback ones: docker's defaults", () => {
    const stub = "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n";
    expect(lines(resolvConf(stub, () => "nameserver 192.0.2.7\nsearch corp\n", false, none))).toEqual(["nameserver 192.0.2.7", "search corp"]);
    expect(lines(resolvConf("nameserver 127.0.0.1\nnameserver ::1\n", () => null, false, none))).toEqual(["nameserver 8.8.8.8", "nameserver 8.8.4.4"]);
    expect(lines(resolvConf(null, () => null, false, none))).toEqual(["nameserver 8.8.8.8", "nameserver 8.8.4.4"]);
  });

  test("--dns, --dns-search, --dns-option replace their parts, checked", () => {
    const f = checkDnsFlags({ dns: ["192.0.2.9", "2001:db8::1"], search: ["a.test", "b.test"], options: ["ndots:5"] });
    expect(lines(resolvConf(host, () => null, false, f))).toEqual([
      "nameserver 192.0.2.9",
      "nameserver 2001:db8::1",
      "search a.test b.test",
      "options ndots:5",
    ]);
    expect(lines(resolvConf(host, () => null, true, { ...none, options: ["rotate"] }))).toEqual([
      "nameserver 127.0.0.1",
      "nameserver 192.0.2.1",
      "search example.org",
      "options rotate",
    ]);
    expect(() => checkDnsFlags({ ...none, dns: ["dns.google"] })).toThrow("--dns dns.google: expected an IPv4 or IPv6 address");
    expect(() => checkDnsFlags({ ...none, search: ["a b"] })).toThrow("--dns-search a b: expected a domain name");
    expect(() => checkDnsFlags({ ...none, options: ["a b"] })).toThrow("--dns-option 'a b': expected one resolver option");
  });
});
