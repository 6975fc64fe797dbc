// Certificates for the test registries, made with openssl in a directory of the caller's:
// a CA and a server certificate it signs for 127.0.0.1 (TLS registries), and a self-signed
// signing certificate (the token server's, which the registry trusts for its tokens).
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function openssl(args: string[], cwd: string) {
  const p = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${p.stderr}`);
}

const P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A self-signed certificate `name`.pem with its key `name`.key (PKCS#8, P-256). */
export function selfSigned(dir: string, name: string, subject: string) {
  openssl(["req", "-x509", ...P256, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${subject}`], dir);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

/** A CA and a server certificate it signs for IP 127.0.0.1 (server.pem, server.key). The
 * CA's certificate is also certs/ca.crt, alone there: skopeo's --dest-cert-dir takes *.crt
 * as CAs and would pair any *.key with a client certificate. */
export function serverCertificate(dir: string) {
  const ca = selfSigned(dir, "ca", "mycfs test CA");
  openssl(["req", ...P256, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"], dir);
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl(
    ["x509", "-req", "-in", "server.csr", "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"],
    dir,
  );
  mkdirSync(join(dir, "certs"));
  copyFileSync(ca.cert, join(dir, "certs/ca.crt"));
  return { caFile: join(dir, "certs/ca.crt"), cert: join(dir, "server.pem"), key: join(dir, "server.key") };
}
