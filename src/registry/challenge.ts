// The WWW-Authenticate header of a registry's 401 (RFC 7235): one or more challenges, each
// a scheme and its parameters, `Bearer realm="https://auth.example/token",service="x",
// scope="repository:app:pull"` or `Basic realm="registry"`. Headers that came several
// times arrive joined with ", ", which the grammar tells apart from parameters.
//
//   parseChallenges(header): Challenge[]     schemes in lower case, parameter names too

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let s = header;
  const skip = (re: RegExp) => (s = s.replace(re, ""));
  while (skip(/^[\s,]+/)) {
    const scheme = s.match(TOKEN)?.[0];
    if (!scheme) break;
    s = s.slice(scheme.length);
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    // a token68 (Negotiate's, say) instead of parameters: not for registries, passed over
    const before = s;
    if (skip(/^ +[A-Za-z0-9\-._~+/]+=*\s*(?=,|$)/) !== before) continue;
    // parameters: NAME = TOKEN | QUOTED, separated by commas, until the next scheme
    for (;;) {
      const m = s.match(/^[\s,]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*/);
      if (!m) break;
      s = s.slice(m[0].length);
      let value: string;
      if (s.startsWith('"')) {
        const q = s.match(/^"((?:[^"\\]|\\.)*)"/);
        value = (q?.[1] ?? s.slice(1)).replace(/\\(.)/g, "$1");
        s = q ? s.slice(q[0].length) : "";
      } else {
        // a token by the grammar; up to a comma here, for realms sent unquoted
        value = s.match(/^[^\s,]*/)![0];
        s = s.slice(value.length);
      }
      challenge.params[m[1]!.toLowerCase()] = value;
    }
  }
  return out;
}
