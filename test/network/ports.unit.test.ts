// -p's and -P's values, and the bridge network's subnet, as mycfs reads them.
import { describe, expect, test } from "bun:test";
import { exposedPorts, parsePublish } from "../../src/network/ports";
import { hostAddresses, parseSubnet } from "../../src/network/subnet";
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
    expect([...hostAddresses(parseSubnet("192.168.5.0/29"))]).toEqual(["192.168.5.2", "192.168.5.3", "192.168.5.4", "192.168.5.5", "192.168.5.6"]);
  });

  test("a malformed subnet is refused, naming the variable and the fix", () => {
    expect(() => parseSubnet("10.87.0.1/16")).toThrow("10.87.0.1 is not the network's first address (10.87.0.0/16)");
    expect(() => parseSubnet("10.87.0.0/31")).toThrow("MYCFS_SUBNET=10.87.0.0/31: expected an IPv4 network");
    expect(() => parseSubnet("10.87.0.0")).toThrow("ADDRESS/PREFIX");
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
