// runc's command line, the OCI front end (src/oci/): what engines (podman with conmon,
// containerd's shim) call. `mycfs [GLOBAL OPTIONS] COMMAND [OPTIONS] ID`, options as Go's
// flag package takes them (--root DIR, --root=DIR, -root DIR). Chosen by main.ts when a
// runc global option comes first, or for a command only runc has (create, start,
// state, delete…); mycfs's own run, exec, ps and kill keep their meaning otherwise.
import { MycfsError } from "../errors";
import { log, setDebug } from "../log";
import { replaceFile } from "../native/lib";
import { resolve } from "../paths";
import { EXIT_OCI } from "../oci/state";
import { GLOBAL_BOOL, GLOBAL_VALUE } from "./oci-select";

interface Parsed {
  values: Record<string, string | boolean>;
  rest: string[];
}

/** Options until the first positional, Go's way; `value` names those that take one. */
function parse(
  args: string[],
  value: ReadonlySet<string>,
  bool: ReadonlySet<string>,
  aliases: Record<string, string> = {},
  interspersed = false,
  repeated: Record<string, string[]> = {},
): Parsed {
  const values: Record<string, string | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      if (!interspersed) {
        rest.push(...args.slice(i));
        break;
      }
      rest.push(a);
      continue;
    }
    const [rawName, inline] = a.replace(/^--?/, "").split(/=(.*)/s, 2) as [string, string | undefined];
    const name = aliases[rawName] ?? rawName;
    if (value.has(name)) {
      const v = inline ?? args[++i];
      if (v === undefined) throw new MycfsError(`flag needs an argument: ${a}`, EXIT_OCI);
      values[name] = v;
      repeated[name]?.push(v);
    } else if (bool.has(name)) values[name] = inline === undefined ? true : inline === "true" || inline === "1";
    else throw new MycfsError(`flag provided but not defined: ${a}`, EXIT_OCI);
  }
  return { values, rest };
}

const str = (v: string | boolean | undefined) => (typeof v === "string" ? v : undefined);

/** Writes an error where an engine looks for it: --log, as text or runc's JSON lines. */
function logError(file: string | undefined, format: string, msg: string) {
  if (!file) return;
  const line =
    format === "json" ? JSON.stringify({ level: "error", msg, time: new Date().toISOString() }) : `time="${new Date().toISOString()}" level=error msg="${msg}"`;
  try {
    // node:fs only on this path: loading it costs milliseconds at every start
    (require("node:fs") as typeof import("node:fs")).appendFileSync(file, `${line}\n`);
  } catch {}
}

function one(rest: string[], usage: string): string {
  if (rest.length !== 1) throw new MycfsError(`"${usage}" requires exactly 1 argument(s)`, EXIT_OCI);
  return rest[0]!;
}

export async function ociMain(argv: string[]): Promise<void> {
  const g = parse(argv, GLOBAL_VALUE, GLOBAL_BOOL);
  const logFile = str(g.values.log);
  const logFormat = str(g.values["log-format"]) ?? "text";
  try {
    if (logFormat !== "text" && logFormat !== "json") throw new MycfsError(`invalid log-format: ${logFormat}`, EXIT_OCI);
    setDebug(g.values.debug === true);
    if (g.values["systemd-cgroup"] === true)
      throw new MycfsError("--systemd-cgroup: mycfs does not drive systemd over D-Bus; run without it (cgroupfs paths)", EXIT_OCI);
    if (g.values.criu !== undefined) throw new MycfsError("--criu: mycfs does not checkpoint containers", EXIT_OCI);
    // runc's --rootless: mycfs always acts as with "auto" (a cgroup it may not make, as
    // anyone but the host's root, is a warning); "true" and "false" would ask otherwise
    const rootless = str(g.values.rootless);
    if (rootless !== undefined && rootless !== "auto")
      throw new MycfsError(`--rootless ${rootless}: mycfs honours only auto (its behaviour without the flag)`, EXIT_OCI);
    const [cmd, ...args] = g.rest;
    const rt = await import("../oci/state");
    const state = new rt.OciState(resolve(str(g.values.root) ?? rt.defaultOciRoot()));
    switch (cmd) {
      case "create":
      case "run": {
        const p = parse(
          args,
          new Set(["bundle", "pid-file", "console-socket", "preserve-fds"]),
          new Set(["no-pivot", "no-new-keyring", "detach", "keep", "no-subreaper"]),
          { b: "bundle", d: "detach" },
          true,
        );
        const id = one(p.rest, `${cmd} [command options] <container-id>`);
        const preserve = str(p.values["preserve-fds"]) ?? "0";
        if (!/^\d+$/.test(preserve)) throw new MycfsError(`invalid value "${preserve}" for flag -preserve-fds`, EXIT_OCI);
        const o = {
          id,
          bundle: resolve(str(p.values.bundle) ?? "."),
          pidFile: str(p.values["pid-file"]) && resolve(str(p.values["pid-file"])!),
          consoleSocket: str(p.values["console-socket"]) && resolve(str(p.values["console-socket"])!),
          preserveFds: Number(preserve),
          noPivot: p.values["no-pivot"] === true,
          debug: g.values.debug === true,
        };
        const oci = await import("../oci/create");
        if (cmd === "create") oci.create(state, o);
        else process.exitCode = await oci.run(state, { ...o, detach: p.values.detach === true });
        return;
      }
      case "exec": {
        const env: string[] = [];
        const p = parse(
          args,
          new Set([
            "console-socket",
            "cwd",
            "env",
            "user",
            "process",
            "pid-file",
            "process-label",
            "apparmor",
            "cap",
            "preserve-fds",
            "cgroup",
            "additional-gids",
          ]),
          new Set(["tty", "detach", "no-new-privs", "ignore-paused"]),
          { e: "env", t: "tty", u: "user", p: "process", d: "detach", c: "cap", g: "additional-gids" },
          false,
          { env },
        );
        for (const name of ["process-label", "apparmor", "cap", "cgroup", "additional-gids"])
          if (p.values[name] !== undefined) throw new MycfsError(`exec --${name}: not honoured by mycfs`, EXIT_OCI);
        if (p.values["preserve-fds"] !== undefined && p.values["preserve-fds"] !== "0")
          throw new MycfsError("exec --preserve-fds: not honoured by mycfs yet", EXIT_OCI);
        const [id, ...command] = p.rest;
        const { ociExec } = await import("../oci/exec");
        const file = str(p.values.process);
        process.exitCode = await ociExec(state, {
          id: rt.checkId(id),
          ...(file ? { processFile: resolve(file) } : {}),
          args: command,
          env,
          cwd: str(p.values.cwd),
          user: str(p.values.user),
          tty: p.values.tty === true,
          detach: p.values.detach === true,
          noNewPrivs: p.values["no-new-privs"] === true,
          pidFile: str(p.values["pid-file"]) && resolve(str(p.values["pid-file"])!),
          consoleSocket: str(p.values["console-socket"]) && resolve(str(p.values["console-socket"])!),
          debug: g.values.debug === true,
        });
        return;
      }
      case "pause":
      case "resume":
        return rt.pause(state, one(args, `${cmd} <container-id>`), cmd === "pause");
      case "ps": {
        const p = parse(args, new Set(["format"]), new Set(), { f: "format" });
        const [id, ...psArgs] = p.rest;
        const pids = rt.pids(state, rt.checkId(id));
        if (str(p.values.format) === "json") return void console.log(JSON.stringify(pids));
        // runc's table: ps(1)'s own, with the container's processes only
        const ps = Bun.spawnSync(["ps", ...(psArgs.length ? psArgs : ["-ef"])], { stdout: "pipe", stderr: "inherit" });
        if (ps.exitCode !== 0) throw new MycfsError(`ps ${psArgs.join(" ")} failed`, EXIT_OCI);
        const [head = "", ...lines] = ps.stdout.toString().trimEnd().split("\n");
        const col = head.trim().split(/\s+/).indexOf("PID");
        if (col < 0) throw new MycfsError("ps's output has no PID column", EXIT_OCI);
        const mine = new Set(pids);
        return void console.log([head, ...lines.filter((l) => mine.has(Number(l.trim().split(/\s+/)[col])))].join("\n"));
      }
      case "update": {
        const { update, UPDATE_FLAGS } = await import("../oci/update");
        const p = parse(args, UPDATE_FLAGS, new Set(), { r: "resources" });
        const values = Object.fromEntries(Object.entries(p.values).filter((e): e is [string, string] => typeof e[1] === "string"));
        return update(state, one(p.rest, "update [command options] <container-id>"), values);
      }
      case "start":
        return rt.start(state, one(args, "start <container-id>"));
      case "state": {
        const id = one(args, "state <container-id>");
        return void console.log(JSON.stringify(state.view(state.load(id)), null, "  "));
      }
      case "kill": {
        const p = parse(args, new Set(), new Set(["all"]), { a: "all" });
        if (p.rest.length < 1 || p.rest.length > 2)
          throw new MycfsError(`"kill [command options] <container-id> [signal]" requires 1 or 2 argument(s)`, EXIT_OCI);
        return rt.kill(state, p.rest[0]!, rt.signalOf(p.rest[1] ?? "SIGTERM"), p.values.all === true);
      }
      case "delete": {
        const p = parse(args, new Set(), new Set(["force"]), { f: "force" });
        const id = one(p.rest, "delete [command options] <container-id>");
        return rt.remove(state, id, p.values.force === true);
      }
      case "list": {
        const p = parse(args, new Set(["format"]), new Set(["quiet"]), { f: "format", q: "quiet" });
        const all = state.ids().flatMap((id) => {
          try {
            return [state.view(state.load(id))];
          } catch {
            return [];
          }
        });
        if (p.values.quiet) return void console.log(all.map((s) => s.id).join("\n"));
        if (str(p.values.format) === "json") return void console.log(JSON.stringify(all));
        const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"], ...all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, "root"])];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        return void console.log(
          rows
            .map((r) =>
              r
                .map((c, i) => c.padEnd(widths[i]!))
                .join("   ")
                .trimEnd(),
            )
            .join("\n"),
        );
      }
      case "spec": {
        const p = parse(args, new Set(["bundle"]), new Set(["rootless"]), { b: "bundle" });
        const { defaultSpec } = await import("../oci/default-spec");
        const path = `${resolve(str(p.values.bundle) ?? ".")}/config.json`;
        if (Bun.file(path).size > 0 || (await Bun.file(path).exists())) throw new MycfsError(`File ${path} exists. Remove it first`, EXIT_OCI);
        const spec = defaultSpec(p.values.rootless === true, process.getuid?.(), process.getgid?.());
        return replaceFile(path, `${JSON.stringify(spec, null, "\t")}\n`, 0o644);
      }
      case "features": {
        const { features } = await import("../oci/default-spec");
        return void console.log(JSON.stringify(features(), null, "    "));
      }
      case undefined:
        throw new MycfsError("no command given; see 'mycfs --help'", EXIT_OCI);
      default:
        throw new MycfsError(`the OCI command '${cmd}' is not implemented by mycfs yet`, EXIT_OCI);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    logError(logFile, logFormat, msg);
    log.error(e instanceof MycfsError ? msg : `internal error: ${msg}`);
    process.exitCode = e instanceof MycfsError ? e.exitCode : EXIT_OCI;
  }
}
