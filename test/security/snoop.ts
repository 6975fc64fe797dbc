// The attacker of runc CVE-2019-5736 and CVE-2016-9962, from inside a container with
// CAP_SYS_PTRACE: `probe snoop` catches each new process of the container's PID namespace,
// keeps an O_PATH fd on its /proc/PID/exe, attaches to it with ptrace and reads what it
// maps and holds, and at the end writes to each executable through the fd it kept.
import { mycfs, PROBE, testStore } from "../helpers";
import { mycfsCopy } from "./attack";

export interface Caught {
  pid: number;
  traced: number;
  /** errno of the write through /proc/self/fd/N of the kept exe (0: it was written) */
  reopen: number;
  exe: string;
  /** file-backed mappings and fd targets, |-separated */
  maps: string;
  fds: string;
}

const sha256 = async (path: string) => new Bun.CryptoHasher("sha256").update(await Bun.file(path).bytes()).digest("hex");

/** Runs the snoop in a container while `execs` processes are exec'd into it by a copy of
 * mycfs (the binary the attack aims at); returns what it caught and whether the copy changed. */
export async function snoopExecs(tag: string, execs: number) {
  const store = testStore(tag);
  try {
    const binary = mycfsCopy(store.dir);
    const before = await sha256(binary);
    const name = `snoop-${tag}`;
    const run = await mycfs([
      "run",
      "-d",
      "--name",
      name,
      "--root",
      store.root,
      "--cap-add",
      "SYS_PTRACE",
      "-v",
      `${PROBE}:/probe:ro`,
      "busybox",
      "sh",
      "-c",
      "/probe snoop 3 > /tmp/caught; touch /done; sleep 30",
    ]);
    if (run.code !== 0) throw new Error(run.stderr);
    const exec = (args: string[]) => Bun.spawn([binary, "exec", ...args], { stdout: "pipe", stderr: "pipe", env: process.env });
    try {
      for (let i = 0; i < execs; i++) await exec([name, "true"]).exited;
      while ((await exec([name, "test", "-e", "/done"]).exited) !== 0) await Bun.sleep(100);
      const caught = JSON.parse(await new Response(exec([name, "cat", "/tmp/caught"]).stdout).text()) as Caught[];
      return { caught, binaryChanged: (await sha256(binary)) !== before };
    } finally {
      await mycfs(["rm", "-f", name]);
    }
  } finally {
    store.cleanup();
  }
}
