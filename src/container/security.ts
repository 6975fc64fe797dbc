// --privileged, --cap-add/--cap-drop and --security-opt, resolved into what the plan
// needs. The seccomp filter itself is compiled by src/seccomp.
import { MycfsError } from "../errors";
import { log } from "../log";
import { resolveCaps } from "./caps";

export interface SecurityOpts {
  noNewPrivs: boolean;
  /** "default", "unconfined", or the path of a Docker JSON profile */
  seccomp: string;
}

/** --security-opt no-new-privileges[=true|false], seccomp=unconfined|PROFILE.json */
export function parseSecurityOpts(opts: string[]): SecurityOpts {
  const s: SecurityOpts = { noNewPrivs: true, seccomp: "default" };
  for (const o of opts) {
    const [key, value] = o.split(/[=:](.*)/s) as [string, string | undefined];
    if (key === "no-new-privileges" && (value === undefined || value === "true" || value === "false")) s.noNewPrivs = value !== "false";
    else if (key === "seccomp" && value) s.seccomp = value;
    else throw new MycfsError(`--security-opt ${o}: expected no-new-privileges[=true|false], seccomp=unconfined or seccomp=PROFILE.json`);
  }
  return s;
}

export interface Privileges {
  caps: Set<string>;
  noNewPrivs: boolean;
  seccomp: string;
  maskPaths: boolean;
}

/** `available`: what mycfs can pass on (its own bounding set); asked-for capabilities
 * beyond it are left out with a warning, since the kernel would refuse them. */
export function resolvePrivileges(o: { capAdd: string[]; capDrop: string[]; privileged: boolean; securityOpts: string[] }, available: Set<string>): Privileges {
  const opts = parseSecurityOpts(o.securityOpts);
  const wanted = resolveCaps(o.capAdd, o.capDrop, o.privileged);
  const missing = [...wanted].filter((c) => !available.has(c));
  if (missing.length && !o.privileged && !o.capAdd.some((c) => c.toUpperCase() === "ALL"))
    log.warn(`mycfs itself lacks ${missing.map((c) => `CAP_${c}`).join(", ")}, so the container runs without ${missing.length > 1 ? "them" : "it"}`);
  return {
    caps: new Set([...wanted].filter((c) => available.has(c))),
    noNewPrivs: opts.noNewPrivs,
    // --privileged: every capability, no seccomp, no masked paths (docker's meaning)
    seccomp: o.privileged ? "unconfined" : opts.seccomp,
    maskPaths: !o.privileged,
  };
}
