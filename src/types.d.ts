// Files that bun embeds with `import x from "…" with { type: "file" }` come in as paths.
declare module "*.so" {
  const path: string;
  export default path;
}
declare module "*.gz" {
  const path: string;
  export default path;
}
