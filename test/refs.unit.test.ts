// Image references read as docker reads them, each naming one record of the store.
import { describe, expect, test } from "bun:test";
import { parseRef } from "../src/images/refs";

describe("image references", () => {
  test.each([
    ["nginx", { display: "nginx:latest", key: "nginx/latest", registry: { host: "docker.io", repository: "library/nginx" } }],
    ["docker.io/library/nginx:1.27", { display: "nginx:1.27", key: "nginx/1.27", registry: { host: "docker.io", repository: "library/nginx" } }],
    ["bitnami/redis:7", { display: "bitnami/redis:7", key: "bitnami/redis/7", registry: { host: "docker.io", repository: "bitnami/redis" } }],
    ["ghcr.io/org/tool:1.4", { display: "ghcr.io/org/tool:1.4", key: "ghcr.io/org/tool/1.4", registry: { host: "ghcr.io", repository: "org/tool" } }],
    ["127.0.0.1:5000/test/img", { display: "127.0.0.1:5000/test/img:latest", registry: { host: "127.0.0.1:5000", repository: "test/img" } }],
    ["localhost/img:v1", { display: "localhost/img:v1", registry: { host: "localhost", repository: "img" } }],
    [`nginx@sha256:${"a".repeat(64)}`, { tag: "", digest: `sha256:${"a".repeat(64)}`, key: `nginx/@sha256:${"a".repeat(64)}` }],
    // mycfs's own short names: the embedded busybox and Alpine's minirootfs
    ["busybox", { display: "busybox:latest", registry: undefined }],
    ["alpine:3.22", { display: "alpine:3.22", registry: undefined }],
    ["docker.io/library/alpine:3.22", { display: "alpine:3.22", registry: { host: "docker.io", repository: "library/alpine" } }],
  ])("%s", (text, want) => {
    expect(parseRef(text)).toMatchObject(want);
  });

  test.each(["Nginx", "nginx:", "nginx:-x", "a//b", "nginx@sha256:abc", "ex ample", "host:port/x:y:z"])("'%s' is refused in one line", (text) => {
    expect(() => parseRef(text)).toThrow(/image reference '.*' is not valid/);
  });
});
