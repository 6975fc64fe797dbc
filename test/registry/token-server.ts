// A token server of the tests' own for registries with distribution's token auth
// (docs/spec/auth/jwt.md): Bun.serve on 127.0.0.1 issuing ES256 JWTs whose x5c header
// carries the signing certificate, which the registry trusts (its rootcertbundle).
// Anyone may pull repositories outside private/; users (user → password) may do anything;
// a wrong password is a 401. It records who asked for what.
import { sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { selfSigned } from "./pki";

export interface TokenOptions {
  users?: Record<string, string>;
}

export interface TokenRequest {
  /** The user who authenticated; undefined: anonymous. */
  user?: string;
  scopes: string[];
}

export const TOKEN_SERVICE = "mycfs-test-registry";
const ISSUER = "mycfs-test-issuer";

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");

export function startTokenServer(dir: string, opts: TokenOptions) {
  const signer = selfSigned(dir, "token", "mycfs test token issuer");
  const key = readFileSync(signer.key, "utf8");
  const der = readFileSync(signer.cert, "utf8").replace(/-----[A-Z ]+-----|\s/g, "");
  const requests: TokenRequest[] = [];

  const token = (sub: string, access: { type: string; name: string; actions: string[] }[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [der] }));
    const claims = { iss: ISSUER, sub, aud: TOKEN_SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: crypto.randomUUID(), access };
    const input = `${header}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }))}`;
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      const basic = req.headers.get("authorization")?.match(/^Basic (.+)$/)?.[1];
      let user: string | undefined;
      if (basic) {
        const [name = "", ...pass] = Buffer.from(basic, "base64").toString().split(":");
        if (opts.users?.[name] === undefined || opts.users[name] !== pass.join(":"))
          return Response.json({ details: "wrong username or password" }, { status: 401 });
        user = name;
      }
      const scopes = url.searchParams.getAll("scope");
      requests.push({ user, scopes });
      const access = scopes.flatMap((scope) => {
        const parts = scope.split(":");
        const [type, name, asked] = [parts[0]!, parts.slice(1, -1).join(":"), parts.at(-1)!];
        const actions = asked.split(",").filter((a) => user !== undefined || (a === "pull" && !name.startsWith("private/")));
        return actions.length ? [{ type, name, actions }] : [];
      });
      const t = token(user ?? "", access);
      return Response.json({ token: t, access_token: t, expires_in: 300, issued_at: new Date().toISOString() });
    },
  });
  return {
    realm: `http://127.0.0.1:${server.port}/token`,
    /** The certificate the registry's rootcertbundle names. */
    bundle: signer.cert,
    requests,
    stop: () => server.stop(true),
  };
}
