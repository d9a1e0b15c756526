import type { Role } from "./identity";

/**
 * The role a route needs, from the one route table (src/http/openapi.ts ROUTES: each entry documents the
 * route and carries its rule). A request that matches no entry needs admin: a new route cannot forget its
 * rule and end up open.
 */
export interface RouteRule {
  method: string;
  path: string;
  role: Role;
}

export function compileRules(rules: RouteRule[]) {
  const compiled = rules.map((r) => ({
    method: r.method.toUpperCase(),
    pattern: new RegExp(`^${r.path.split("/").map((seg) => (/^\{.+\}$/.test(seg) ? "[^/]+" : seg.replace(/[.*+?^$()|[\]\\]/g, "\\$&"))).join("/")}/?$`),
    role: r.role,
  }));
  return (method: string, path: string): Role => compiled.find((r) => r.method === method.toUpperCase() && r.pattern.test(path))?.role ?? "admin";
}
