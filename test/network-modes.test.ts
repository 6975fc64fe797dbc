// --network's modes and the container's /etc/hostname, hosts and resolv.conf, with real
// containers. Nothing here configures a network: the host's namespace is only looked at
// (its inode), and the namespace ns:PATH joins is one the test makes on a file of its own.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { symlink } from "./archives";
import { imageDir, mycfs, type Result, testStore } from "./helpers";

const store = testStore("network");
afterAll(store.cleanup);
/** The host's files mycfs reads for resolv.conf, the test's own (network/resolv.ts). */
const resolvEnv = (host: string, resolved = join(store.dir, "no-such-file")) => {
  writeFileSync(join(store.dir, "resolv.conf"), host);
  return { MYCFS_RESOLV_CONF: join(store.dir, "resolv.conf"), MYCFS_RESOLVED_CONF: resolved };
};
const run = (args: string[], cmd: string[], env?: Record<string, string>) =>
  mycfs(["run", "--rm", "--root", store.root, ...args, "busybox", "sh", "-c", ...cmd], { env });
const ourNetns = readlinkSync("/proc/self/ns/net");
/** An error of mycfs's own: exit 125 and one line. */
const refused = (r: Result, line: string) => {
  expect(r.code).toBe(125);
  expect(r.stderr).toBe(`mycfs: ${line}\n`);
};

describe("--network none and host", () => {
  test("none: a namespace of its own with only lo, up", async () => {
    const r = await run(["--network", "none"], ["readlink /proc/self/ns/net; ip -o link"]);
    const [ns, ...links] = r.stdout.trim().split("\n");
    expect(ns).toMatch(/^net:\[\d+\]$/);
    expect(ns).not.toBe(ourNetns);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
  });

  test("host: the host's namespace, the container's own host name", async () => {
    const r = await run(["--network", "host", "--hostname", "box"], ["readlink /proc/self/ns/net; hostname"]);
    expect(r).toMatchObject({ code: 0, stdout: `${ourNetns}\nbox\n` });
  });

  test("refused with a user namespace of the container's own, and for an unknown mode", async () => {
    refused(
      await run(["--userns", "auto", "--network", "host"], ["true"]),
      "--network host: not for a container with --userns: its root has no privilege over the host's network namespace, and the kernel refuses it a /sys there; run as root without --userns, or without --network host",
    );
    // (never bridge here: it would make a bridge in the host's namespace; test/network/ runs it in a sandbox)
    refused(await run(["--network", "overlay"], ["true"]), "--network overlay: expected none, host, bridge, pasta, slirp4netns, container:NAME|ID or ns:PATH");
  });
});

describe("--network container:NAME", () => {
  test("joins a running container's namespace, holds no fd of it, and says so in ps and inspect", async () => {
    const name = `net-a-${process.pid}`;
    const a = await mycfs(["run", "-d", "--root", store.root, "--network", "none", "--name", name, "busybox", "sleep", "60"]);
    expect(a.code).toBe(0);
    try {
      const theirs = (await mycfs(["exec", name, "readlink", "/proc/self/ns/net"])).stdout.trim();
      expect(theirs).not.toBe(ourNetns);
      const b = await mycfs(["run", "-d", "--root", store.root, "--network", `container:${name}`, "busybox", "sleep", "60"]);
      const id = b.stdout.trim();
      try {
        // only 0-2 in the container's first process: the namespace's fd was closed before exec
        const seen = await mycfs(["exec", id, "sh", "-c", "readlink /proc/self/ns/net; ls /proc/1/fd"]);
        expect(seen.stdout).toBe(`${theirs}\n0\n1\n2\n`);
        const [record] = JSON.parse((await mycfs(["inspect", id])).stdout);
        expect(record.network).toEqual({ mode: "container", id: a.stdout.trim() });
        const ps = (await mycfs(["ps"])).stdout.split("\n");
        expect(ps[0]).toContain("NETWORK");
        expect(ps.find((l) => l.startsWith(id.slice(0, 12)))).toContain(`container:${a.stdout.trim().slice(0, 12)}`);
        expect(ps.find((l) => l.includes(name))).toMatch(/ none /);
        // its /etc files live in its record's directory, and go with it
        expect(readFileSync(join(process.env.MYCFS_STATE!, id, "hostname"), "utf8")).toBe(`${id.slice(0, 12)}\n`);
      } finally {
        await mycfs(["rm", "-f", id]);
      }
      expect(existsSync(join(process.env.MYCFS_STATE!, id))).toBe(false);
    } finally {
      await mycfs(["rm", "-f", name]);
    }
  });

  test("an unknown or stopped container: one line, exit 125", async () => {
    refused(await run(["--network", "container:no-such-one"], ["true"]), "--network container:no-such-one: no such container: no-such-one (see mycfs ps -a)");
    const name = `net-done-${process.pid}`;
    await mycfs(["run", "--root", store.root, "--name", name, "busybox", "true"]);
    try {
      refused(
        await run(["--network", `container:${name}`], ["true"]),
        `--network container:${name}: container ${name} is not running; start it first (mycfs ps -a)`,
      );
    } finally {
      await mycfs(["rm", name]);
    }
  });
});

describe("--network ns:PATH", () => {
  test("joins the namespace bound on a file; a file that is no network namespace is refused", async () => {
    const ns = join(store.dir, "netns");
    writeFileSync(ns, "");
    expect(Bun.spawnSync(["unshare", `--net=${ns}`, "true"]).exitCode).toBe(0);
    try {
      const r = await run(["--network", `ns:${ns}`], ["readlink /proc/self/ns/net; ip -o link"]);
      // lo as the namespace's maker left it: down (no lo step in a joined namespace)
      expect(r.stdout).toStartWith(`net:[${statSync(ns).ino}]\n1: lo: <LOOPBACK> `);
    } finally {
      Bun.spawnSync(["umount", ns]);
    }
    refused(
      await run(["--network", `ns:${ns}`], ["true"]),
      `--network ns:${ns}: ${ns} is no namespace file; give a network namespace (/var/run/netns/NAME, /proc/PID/ns/net)`,
    );
    refused(
      await run(["--network", `ns:${store.dir}/nothing`], ["true"]),
      `--network ns:${store.dir}/nothing: ${store.dir}/nothing does not exist; give a network namespace file (ip netns add NAME makes /var/run/netns/NAME)`,
    );
    refused(
      await run(["--network", "ns:/proc/self/ns/uts"], ["true"]),
      "--network ns:/proc/self/ns/uts: /proc/self/ns/uts is a UTS namespace, not a network one; give a network namespace (/var/run/netns/NAME, /proc/PID/ns/net)",
    );
  });
});

describe("/etc/hostname, /etc/hosts, /etc/resolv.conf", () => {
  const show = ["cat /etc/hostname; echo --; cat /etc/hosts; echo --; cat /etc/resolv.conf"];
  const parts = (r: Result) => r.stdout.split("--\n");

  test("a namespace of its own: docker's hosts with the name on 127.0.1.1, the host's nameservers but loopback ones", async () => {
    const env = resolvEnv("nameserver 127.0.0.1\nnameserver 192.0.2.1\nsearch example.org\noptions ndots:2\n");
    const [hostname, hosts, resolv] = parts(
      await run(["--network", "none", "--hostname", "box", "--add-host", "db:192.0.2.5", "--add-host", "v6:2001:db8::5"], show, env),
    );
    expect(hostname).toBe("box\n");
    expect(hosts).toBe(
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n" +
        "192.0.2.5\tdb\n2001:db8::5\tv6\n127.0.1.1\tbox\n",
    );
    expect(resolv).toBe("# written by mycfs from the host's resolv.conf\nnameserver 192.0.2.1\nsearch example.org\noptions ndots:2\n");
  });

  test("behind systemd-resolved's stub: its upstream servers; --dns, --dns-search, --dns-option replace", async () => {
    const upstream = join(store.dir, "upstream.conf");
    writeFileSync(upstream, "nameserver 192.0.2.53\nsearch corp.test\n");
    const env = resolvEnv("nameserver 127.0.0.53\noptions edns0 trust-ad\n", upstream);
    expect(parts(await run([], show, env))[2]).toBe("# written by mycfs from the host's resolv.conf\nnameserver 192.0.2.53\nsearch corp.test\n");
    const flags = ["--dns", "192.0.2.9", "--dns", "2001:db8::9", "--dns-search", "a.test", "--dns-option", "ndots:5", "--dns-option", "rotate"];
    expect(parts(await run(flags, show, env))[2]).toBe(
      "# written by mycfs from the host's resolv.conf\nnameserver 192.0.2.9\nnameserver 2001:db8::9\nsearch a.test\noptions ndots:5 rotate\n",
    );
    const only = await run([], show, resolvEnv("nameserver 127.0.0.1\n"));
    expect(parts(only)[2]).toBe("# written by mycfs from the host's resolv.conf\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    expect(only.stderr).toContain("it gets 8.8.8.8 and 8.8.4.4");
  });

  test("in the host's namespace: the host's hosts first, its resolv.conf unchanged", async () => {
    const host = "nameserver 127.0.0.53\nsearch lan\n";
    const [, hosts, resolv] = parts(await run(["--network", "host", "--hostname", "box"], show, resolvEnv(host)));
    expect(hosts).toBe(`${readFileSync("/etc/hosts", "utf8").trimEnd()}\n127.0.1.1\tbox\n`);
    expect(resolv).toBe(host);
  });

  test("bound over the image's, which stays as it was; writable, on a --read-only root too; a -v on one wins", async () => {
    const imageHosts = join(imageDir(store.root), "etc/hosts");
    const before = readFileSync(imageHosts, "utf8");
    const r = await run(["--read-only", "--hostname", "box"], ["echo '10.9.9.9 mine' >> /etc/hosts && tail -1 /etc/hosts && ! touch /etc/other"]);
    expect(r).toMatchObject({ code: 0, stdout: "10.9.9.9 mine\n" });
    expect(readFileSync(imageHosts, "utf8")).toBe(before);
    const own = join(store.dir, "own-hosts");
    writeFileSync(own, "10.0.0.1 own\n");
    expect((await run(["-v", `${own}:/etc/hosts:ro`], ["cat /etc/hosts"])).stdout).toBe("10.0.0.1 own\n");
  });

  test("for a --rootfs directory too, whose own files stay as they were", async () => {
    const rootfs = join(store.dir, "rootfs");
    Bun.spawnSync(["cp", "-a", join(imageDir(store.root), "."), rootfs]);
    const before = readFileSync(join(rootfs, "etc/hosts"), "utf8");
    const r = await mycfs(["run", "--rm", "--network", "none", "--rootfs", rootfs, "--hostname", "box", "sh", "-c", "cat /etc/hostname; tail -1 /etc/hosts"]);
    expect(r).toMatchObject({ code: 0, stdout: "box\n127.0.1.1\tbox\n" });
    expect(readFileSync(join(rootfs, "etc/hosts"), "utf8")).toBe(before);
  });

  test("--add-host and --dns values checked before anything runs", async () => {
    refused(
      await run(["--network", "none", "--add-host", "gw:host-gateway"], ["true"]),
      "--add-host gw:host-gateway: host-gateway needs a bridge network (--network bridge), which gives the host an address the container reaches; or give the IP",
    );
    refused(await run(["--add-host", "db:10.0.0.300"], ["true"]), "--add-host db:10.0.0.300: 10.0.0.300 is not an IPv4 or IPv6 address");
    refused(await run(["--dns", "dns.google"], ["true"]), "--dns dns.google: expected an IPv4 or IPv6 address");
  });

  test("an image's /etc/resolv.conf and /etc/hosts that are symlinks out of it: the mounts land inside, the host untouched", async () => {
    const busybox = readFileSync(join(imageDir(store.root), "bin/busybox"));
    const outside = `mycfs-test-outside-${process.pid}`;
    const tar = await packTar([
      { header: { name: "bin/busybox", type: "file", size: busybox.byteLength, mode: 0o755 }, body: busybox },
      symlink("bin/sh", "busybox"),
      symlink("bin/cat", "busybox"),
      symlink("etc/resolv.conf", `../../run/${outside}`),
      symlink("etc/hosts", `/../../tmp/${outside}`),
    ]);
    writeFileSync(join(store.dir, "links.tar"), tar);
    expect((await mycfs(["import", "--root", store.root, join(store.dir, "links.tar"), "links"])).code).toBe(0);
    const r = await mycfs(["run", "--rm", "--root", store.root, "--dns", "192.0.2.1", "links", "sh", "-c", `cat /run/${outside} /tmp/${outside}`]);
    expect(r.stdout).toStartWith("# written by mycfs from the host's resolv.conf\nnameserver 192.0.2.1\n127.0.0.1\tlocalhost\n");
    expect(existsSync(`/run/${outside}`)).toBe(false);
    expect(existsSync(`/tmp/${outside}`)).toBe(false);
  });
});
