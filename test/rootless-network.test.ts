// Rootless networks: pasta and slirp4netns, run by an ordinary user made for the test, in
// a network sandbox of the test's own (test/network/sandbox.ts) whose default route leads
// to the "outside" namespace and its HTTP server. Each mycfs runs in a mount namespace of
// its own where /dev/net/tun is a node open to every user, as Debian makes it (this
// machine's is root's only; the host's node is left as it is).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { testUser, userStoreOnOverlay } from "./helpers";
import { netSandbox, SANDBOX_IP, SERVER } from "./network/sandbox";

const account = testUser("n", "rootless-net");
const { name: user, dir, bin } = account;
const tun = join(dir, "tun");
let sandbox: Awaited<ReturnType<typeof netSandbox>>;

beforeAll(async () => {
  account.create();
  const node = Bun.spawnSync(["mknod", "-m", "666", tun, "c", "10", "200"], { stderr: "pipe" });
  if (node.exitCode !== 0) throw new Error(`mknod: ${node.stderr}`);
  // a PATH where slirp4netns is found and pasta is not
  mkdirSync(join(dir, "slirp-only"));
  symlinkSync(Bun.which("slirp4netns")!, join(dir, "slirp-only", "slirp4netns"));
  sandbox = await netSandbox("rootless-net");
  sandbox.inSandbox("ip route add default via 192.0.2.2");
});

afterAll(async () => {
  await sandbox?.cleanup();
  account.remove();
});

/** mycfs as the user, in the sandbox (or the suite's namespace, with no route out), with
 * the open tun node; PATH as given. */
async function asUser(args: string[], path = process.env.PATH!, inSandbox = true) {
  const ownMounts = ["unshare", "--mount", "--propagation", "private", "sh", "-c", `mount --bind ${tun} /dev/net/tun && exec "$@"`, "sh"];
  const argv = [
    ...(inSandbox ? sandbox.wrap(ownMounts) : ownMounts),
    ...[
      "setpriv",
      `--reuid=${user}`,
      `--regid=${user}`,
      "--init-groups",
      "env",
      `PATH=${path}`,
      `HOME=/home/${user}`,
      `TMPDIR=/home/${user}`,
      "XDG_DATA_HOME=",
    ],
    ...[bin, ...args],
  ];
  const p = Bun.spawn(argv, { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

interface Ref {
  pid: number;
  start: number;
}

/** The record's helper process. */
async function helperOf(ref: string): Promise<Ref> {
  const r = await asUser(["inspect", ref]);
  const s = JSON.parse(r.stdout);
  return (Array.isArray(s) ? s[0] : s).network.helper;
}

/** The user's pasta processes. */
const pastas = () => Bun.spawnSync(["pgrep", "-u", user, "-f", "^pasta "]).stdout.toString().split("\n").filter(Boolean).map(Number);

/** Whether the process is still there: not gone, nor a zombie (init reaps pasta's). */
function running(ref: Ref): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${ref.pid}/stat`, "utf8");
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[0] !== "Z" && Number(fields[19]) === ref.start;
}

const fetchFromSandbox = (url: string) => sandbox.inSandbox(`curl -sS --max-time 5 ${url}`);

describe("rootless networks", () => {
  test("pasta by default: the container reaches the outside world, by the host's address; ps says pasta", async () => {
    const r = await asUser(["run", "--name", "p1", "busybox", "sh", "-c", `wget -qO- ${SERVER}`]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    // pasta's container has the host's address: the server sees that
    expect(r.stdout).toBe(SANDBOX_IP);
    const ps = await asUser(["ps", "-a", "--format", "json"]);
    expect(ps.stdout).toContain('"pasta"');
    // the helper ended with the container
    expect(running(await helperOf("p1"))).toBe(false);
    expect((await asUser(["rm", "p1"])).code).toBe(0);
  });

  test("slirp4netns where pasta is not installed, or asked for: NAT from 10.0.2.100, its DNS first", async () => {
    const path = join(dir, "slirp-only");
    const script = `ip -o -4 addr show tap0 | grep -o '10.0.2.100/24'; wget -qO- ${SERVER}; echo; grep -m1 nameserver /etc/resolv.conf`;
    const r = await asUser(["run", "--name", "s1", "busybox", "sh", "-c", script], path);
    expect(r).toMatchObject({ code: 0, stdout: `10.0.2.100/24\n${SANDBOX_IP}\nnameserver 10.0.2.3\n` });
    expect((await asUser(["ps", "-a"])).stdout).toMatch(/ s1 .* slirp4netns/);
    expect(running(await helperOf("s1"))).toBe(false);
    expect((await asUser(["rm", "s1"])).code).toBe(0);
    const asked = await asUser(["run", "--rm", "--network", "slirp4netns", "busybox", "sh", "-c", `wget -qO- ${SERVER}`]);
    expect(asked).toMatchObject({ code: 0, stdout: SANDBOX_IP });
    expect(await asUser(["run", "--rm", "--network", "slirp4netns", "-p", "80", "busybox", "true"])).toEqual({
      code: 125,
      stdout: "",
      stderr: "mycfs: -p and -P: not with --network slirp4netns (mycfs publishes through pasta's forwarding): use --network pasta (apt-get install passt)\n",
    });
  });

  test("-p through pasta: the sandbox's loopback and address reach the container's server; a taken port is refused first", async () => {
    const serve = "mkdir /w && echo in-container > /w/index.html && exec httpd -f -p 80 -h /w";
    const id = (await asUser(["run", "-d", "--name", "web", "-p", "18080:80", "-p", "127.0.0.1::80", "busybox", "sh", "-c", serve])).stdout.trim();
    try {
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const ps = (await asUser(["ps"])).stdout;
      const picked = /127\.0\.0\.1:(\d+)->80\/tcp/.exec(ps)?.[1];
      expect(ps).toContain("pasta 0.0.0.0:18080->80/tcp 127.0.0.1:");
      // httpd may take a moment to listen
      for (let i = 0; i < 50 && !sandbox.inSandbox(`curl -s --max-time 1 127.0.0.1:18080/ || true`); i++) await Bun.sleep(20);
      expect(fetchFromSandbox("http://127.0.0.1:18080/")).toBe("in-container\n");
      expect(fetchFromSandbox(`http://${SANDBOX_IP}:18080/`)).toBe("in-container\n");
      expect(fetchFromSandbox(`http://127.0.0.1:${picked}/`)).toBe("in-container\n");
      const inspect = JSON.parse((await asUser(["inspect", "web"])).stdout);
      expect((Array.isArray(inspect) ? inspect[0] : inspect).network.ports).toEqual([
        { hostPort: 18080, containerPort: 80, proto: "tcp" },
        { hostIp: "127.0.0.1", hostPort: Number(picked), containerPort: 80, proto: "tcp" },
      ]);
      const taken = await asUser(["run", "--rm", "-p", "18080:80", "busybox", "true"]);
      expect(taken.code).toBe(125);
      expect(taken.stderr).toStartWith("mycfs: -p 0.0.0.0:18080->80/tcp: the host's port 18080/tcp cannot be used (");
      // and its pasta is gone with rm -f
      const helper = await helperOf("web");
      expect(running(helper)).toBe(true);
      expect((await asUser(["rm", "-f", "web"])).code).toBe(0);
      expect(running(helper)).toBe(false);
    } finally {
      await asUser(["rm", "-f", "web"]);
    }
  });

  test("mycfs killed (SIGKILL): slirp4netns ends with it, pasta with the next command's recovery", async () => {
    for (const mode of ["pasta", "slirp4netns"]) {
      const name = `k-${mode}`;
      expect((await asUser(["run", "-d", "--name", name, "--network", mode, "busybox", "sleep", "60"])).code).toBe(0);
      const s = JSON.parse((await asUser(["inspect", name])).stdout);
      const state = Array.isArray(s) ? s[0] : s;
      const helper: Ref = state.network.helper;
      expect(running(helper)).toBe(true);
      process.kill(state.supervisor.pid, "SIGKILL");
      if (mode === "slirp4netns") {
        // its exit fd's other end closed with mycfs
        for (let i = 0; i < 100 && running(helper); i++) await Bun.sleep(10);
        expect(running(helper)).toBe(false);
      }
      const ps = await asUser(["ps", "-a"]);
      expect(ps.stdout).toMatch(new RegExp(`Exited \\(137\\).* ${mode}`));
      expect(running(helper)).toBe(false);
      expect((await asUser(["rm", name])).code).toBe(0);
    }
  });

  test("a second attempt (a store on overlayfs: a copy of the image) gets a pasta of its own; the first's ends", async () => {
    const { root, remove } = userStoreOnOverlay(join(dir, "on-overlay"), user);
    try {
      const r = await asUser(["run", "-d", "--name", "again", "--root", root, "busybox", "sh", "-c", `wget -qO- ${SERVER} > /tmp/got; sleep 60`]);
      expect(r.code).toBe(0);
      const helper = await helperOf("again");
      expect(pastas()).toEqual([helper.pid]);
      expect((await asUser(["exec", "again", "sh", "-c", "sleep 0.3; cat /tmp/got"])).stdout).toBe(SANDBOX_IP);
      expect((await asUser(["rm", "-f", "again"])).code).toBe(0);
      expect(pastas()).toEqual([]);
    } finally {
      await asUser(["rm", "-f", "again"]);
      remove();
    }
  });

  test("pasta failing (no route out, asked for by name): its reason in one line, exit 125, nothing left", async () => {
    const r = await asUser(["run", "--name", "noroute", "--network", "pasta", "busybox", "true"], process.env.PATH, false);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^mycfs: --network pasta: pasta failed: .*No external routable interface for IPv4.*\n$/);
    expect((await asUser(["ps", "-a", "-q"], process.env.PATH, false)).stdout).toBe("");
    expect(pastas()).toEqual([]);
  });

  test("neither installed: the container gets only lo, after one notice; one asked for is refused", async () => {
    const empty = join(dir, "empty");
    mkdirSync(empty);
    const r = await asUser(["run", "--rm", "busybox", "sh", "-c", "ip -o link | wc -l"], empty);
    expect(r).toEqual({
      code: 0,
      stdout: "1\n",
      stderr:
        "mycfs: no network for a rootless container here (neither pasta (apt-get install passt) nor slirp4netns is installed): it gets a network namespace with only lo (--network none)\n",
    });
    // asked for by name: refused, in one line
    expect(await asUser(["run", "--rm", "--network", "pasta", "busybox", "true"], empty)).toEqual({
      code: 125,
      stdout: "",
      stderr: "mycfs: --network pasta: pasta is not installed (apt-get install passt), or not in PATH\n",
    });
  });
});
