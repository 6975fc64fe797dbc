// -p's and -P's values, and the bridge network's subnet, as mycfs reads them.
import { describe, expect, test } from "bun:test";
import { exposedPorts, parsePublish } from "../../src/network/ports";
import { firstFree, parseSubnet } from "../../src/network/subnet";
import { address6, DEFAULT_SUBNET6, ip6Bytes, ip6Groups, ip6String, parseSubnet6 } from "../../src/network/subnet6";
import { checkNetworkUserns, networkText, parseNetwork } from "../../src/network/mode";

describe("-p", () => {
  test("[IP:]HOST:CTR[/tcp|udp], docker's forms", () => {
    expect(parsePublish("8080:80")).toEqual({ hostPort: 8080, containerPort: 80, proto: "tcp" });
    expect(parsePublish("127.0.0.1:53:53/udp")).toEqual({ hostIp: "127.0.0.1", hostPort: 53, containerPort: 53, proto: "udp" });
    expect(parsePublish("0.0.0.0:8080:80")).toEqual({ hostPort: 8080, containerPort: 80, proto: "tcp" });
    // no host port: one the kernel picks
    expect(parsePublish("80")).toEqual({ hostPort: 0, containerPort: 80, proto: "tcp" });
    expect(parsePublish("127.0.0.1::80")).toEqual({ hostIp: "127.0.0.1", hostPort: 0, containerPort: 80, proto: "tcp" });
  });

  test("what is not a port, an address or a protocol is refused, naming the value", () => {
    expect(() => parsePublish("8080:0")).toThrow("-p 8080:0: '0' is no port number");
    expect(() => parsePublish("70000:80")).toThrow("'70000' is no port number");
    expect(() => parsePublish("8080:80/sctp")).toThrow("expected [IP:]HOST:CTR[/tcp|udp]");
    expect(() => parsePublish("1.2.3:8080:80")).toThrow("'1.2.3' is no IPv4 address");
    expect(() => parsePublish("::1:8080:80")).toThrow("IPv6");
  });

  test("-P takes the image's ExposedPorts", () => {
    expect(exposedPorts({ "80/tcp": {}, "53/udp": {}, "8080": {} })).toEqual([
      { hostPort: 0, containerPort: 8080, proto: "tcp" }, // an integer key comes first in JavaScript's order
      { hostPort: 0, containerPort: 80, proto: "tcp" },
      { hostPort: 0, containerPort: 53, proto: "udp" },
    ]);
    expect(exposedPorts(undefined)).toEqual([]);
    expect(() => exposedPorts({ "http/tcp": {} })).toThrow("ExposedPorts has 'http/tcp'");
  });
});

describe("the subnet", () => {
  test("the gateway is its first address; containers get the rest but the broadcast", () => {
    const s = parseSubnet("10.87.0.0/16");
    expect(s).toMatchObject({ prefix: 16, gateway: "10.87.0.1" });
    const small = parseSubnet("192.168.5.0/29");
    expect(firstFree(small, new Set())).toBe("192.168.5.2");
    expect(firstFree(small, new Set(["192.168.5.2", "192.168.5.4"]))).toBe("192.168.5.3");
    expect(firstFree(small, new Set(["192.168.5.2", "192.168.5.3", "192.168.5.4", "192.168.5.5"]))).toBe("192.168.5.6");
    // .7 is the broadcast address
    expect(firstFree(small, new Set(["192.168.5.2", "192.168.5.3", "192.168.5.4", "192.168.5.5", "192.168.5.6"]))).toBeNull();
  });

  test("a malformed subnet is refused, naming the variable and the fix", () => {
    expect(() => parseSubnet("10.87.0.1/16")).toThrow("10.87.0.1 is not the network's first address (10.87.0.0/16)");
    expect(() => parseSubnet("10.87.0.0/31")).toThrow("MYCFS_SUBNET=10.87.0.0/31: expected an IPv4 network");
    expect(() => parseSubnet("10.87.0.0")).toThrow("ADDRESS/PREFIX");
  });

  test("IPv6: a container's address has its IPv4 one's host number; addresses in canonical text", () => {
    const v4 = parseSubnet("10.87.0.0/16");
    const s = parseSubnet6(DEFAULT_SUBNET6, v4);
    expect(s).toMatchObject({ prefix: 64, gateway: "fd87:6d79:6366::1" });
    expect(address6(s, v4, "10.87.0.2")).toBe("fd87:6d79:6366::2");
    expect(address6(s, v4, "10.87.1.10")).toBe("fd87:6d79:6366::10a");
    // RFC 5952's text, as the kernel prints it
    for (const [given, text] of [
      ["fd00:0:0:0:1:0:0:1", "fd00::1:0:0:1"],
      ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
      ["0:0:1:0:0:0:0:0", "0:0:1::"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
      ["::", "::"],
      ["FD87::0001", "fd87::1"],
    ])
      expect(ip6String(ip6Groups(given!)!)).toBe(text!);
    expect(ip6Groups("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    for (const bad of ["10.0.0.1", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7::8"]) expect(ip6Groups(bad)).toBeNull();
    expect([...ip6Bytes("fd87::2")]).toEqual([0xfd, 0x87, ...Array(13).fill(0), 2]);
  });

  test("IPv6: a subnet too small for the IPv4 one's hosts, or not a network's first address, is refused", () => {
    const v4 = parseSubnet("10.87.0.0/16");
    expect(() => parseSubnet6("fd87::/120", v4)).toThrow("MYCFS_SUBNET6=fd87::/120: expected an IPv6 network as ADDRESS/PREFIX with a prefix of 64 to 112");
    expect(() => parseSubnet6("fd87::1/64", v4)).toThrow("fd87::1 is not the network's first address (fd87::/64)");
    expect(() => parseSubnet6("10.0.0.0/64", v4)).toThrow("expected an IPv6 network");
    expect(parseSubnet6("fd87::/120", parseSubnet("192.168.5.0/29")).prefix).toBe(120);
  });
});

test("--network bridge: root's, with or without --userns; never rootless", () => {
  expect(parseNetwork("bridge")).toEqual({ mode: "bridge" });
  const userns = { uids: [], gids: [] };
  expect(() => checkNetworkUserns({ mode: "bridge" }, "bridge", userns)).not.toThrow();
  expect(() => checkNetworkUserns({ mode: "bridge" }, "bridge", { ...userns, rootless: "own-id" })).toThrow("--network bridge: not for a rootless container");
  const ports = [parsePublish("8080:80"), parsePublish("127.0.0.1:53:53/udp")];
  expect(networkText({ mode: "bridge", ip: "10.87.0.2", prefix: 16, gateway: "10.87.0.1", veth: "veth01234567", ports })).toBe(
    "bridge:10.87.0.2 0.0.0.0:8080->80/tcp 127.0.0.1:53->53/udp",
  );
  expect(() => parseNetwork("overlay")).toThrow("--network overlay: expected none, host, bridge, pasta, slirp4netns, container:NAME|ID or ns:PATH");
});
