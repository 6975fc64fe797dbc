// POSIX path arithmetic. node:path costs 0.7-0.9 ms to load (it pulls in Node's internal
// validators), more than the container's whole mount setup; these are the four of its
// functions mycfs uses, giving node:path's results (test/paths.unit.test.ts compares them).

/** Collapses "//", "." and "..", keeping a trailing slash: path.posix.normalize. */
export function normalize(p: string): string {
  if (p === "") return ".";
  const absolute = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg !== "..") out.push(seg);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!absolute) out.push("..");
  }
  const body = out.join("/");
  if (absolute) return body === "" ? "/" : `/${body}${p.endsWith("/") ? "/" : ""}`;
  if (body === "") return p.endsWith("/") ? "./" : ".";
  return p.endsWith("/") ? `${body}/` : body;
}

/** The non-empty parts joined by "/", normalised: path.join. */
export function join(...parts: string[]): string {
  const joined = parts.filter((s) => s !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/** An absolute path: the parts from the last absolute one, on the working directory. */
export function resolve(...parts: string[]): string {
  let p = "";
  for (let i = parts.length - 1; i >= 0 && !p.startsWith("/"); i--) if (parts[i]) p = p ? `${parts[i]}/${p}` : parts[i]!;
  const n = normalize(p.startsWith("/") ? p : `${process.cwd()}/${p}`);
  return n.length > 1 && n.endsWith("/") ? n.slice(0, -1) : n;
}

/** All but the last component: path.dirname. */
export function dirname(p: string): string {
  if (p === "") return ".";
  let end = p.length;
  while (end > 1 && p[end - 1] === "/") end--;
  const slash = p.lastIndexOf("/", end - 1);
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  return slash === 1 && p[0] === "/" ? "//" : p.slice(0, slash); // POSIX leaves a leading "//" to the system
}
