import { X509Certificate } from "node:crypto";
import { z } from "zod";
import { isLoopbackHost } from "../services/registry-access";

/**
 * What people may type as registry settings, checked with messages that name what is wrong.
 * Values come out normalised (lower-case hosts, mirror URLs without a trailing slash), so the
 * stored configuration and the audit log compare equal for equal settings.
 */

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOST = new RegExp(`^(?:localhost|${LABEL}(?:\\.${LABEL})*|\\[[0-9a-f:]+\\])(?::(\\d{1,5}))?$`);

/** `docker.io`, `ghcr.io`, `registry.example.com:5000`, `localhost:5000`, `[::1]:5000`. */
export const registryDomain = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "a registry domain is required")
  .max(255, "registry domain is too long")
  .superRefine((value, ctx) => {
    if (/^[a-z]+:\/\//.test(value)) {
      ctx.addIssue({ code: "custom", message: `registry "${value}": give the domain as host[:port], without ${value.split("//")[0]}//` });
      return;
    }
    const m = HOST.exec(value);
    const port = m?.[1] === undefined ? undefined : Number(m[1]);
    if (!m || (port !== undefined && (port < 1 || port > 65535))) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a registry domain (expected host[:port], e.g. registry.example.com:5000)`,
      });
      return;
    }
    // docker's rule: a first path component is a registry only with a dot, a port, or localhost.
    if (!/[.:]/.test(value) && value !== "localhost") {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a registry domain: it needs a dot or a port (e.g. ${value}.example.com or ${value}:5000)`,
      });
    }
  });

/** `https://mirror.example.com[:port]` or `http://…`; nothing after the host. */
export const mirrorUrl = z
  .string()
  .trim()
  .min(1, "a mirror URL is required")
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: "custom", message: `mirror "${value}" is not a URL (expected https://host[:port])` });
      return z.NEVER;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      ctx.addIssue({ code: "custom", message: `mirror "${value}": use https:// or http://, not ${url.protocol}//` });
      return z.NEVER;
    }
    if (url.username || url.password) {
      ctx.addIssue({ code: "custom", message: `mirror "${value}": credentials are not allowed in the URL` });
      return z.NEVER;
    }
    if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
      ctx.addIssue({ code: "custom", message: `mirror "${value}": a path is not allowed (give ${url.protocol}//${url.host} only)` });
      return z.NEVER;
    }
    return `${url.protocol}//${url.host}`;
  });

const MAX_CA_BYTES = 256 * 1024;

/** One or more PEM certificates; empty means none. */
export const caBundle = z
  .string()
  .max(MAX_CA_BYTES, `the CA bundle is larger than ${MAX_CA_BYTES / 1024} KiB`)
  .nullable()
  .transform((value, ctx) => {
    const pem = value?.trim() ?? "";
    if (!pem) return null;
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) {
      ctx.addIssue({
        code: "custom",
        message: "the CA bundle holds no PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----)",
      });
      return z.NEVER;
    }
    for (const [i, block] of blocks.entries()) {
      try {
        new X509Certificate(block);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: `certificate ${i + 1} of the CA bundle cannot be read: ${(err as Error).message}` });
        return z.NEVER;
      }
    }
    return `${pem}\n`;
  });

export const saveRegistryInput = z
  .object({
    domain: registryDomain,
    insecure: z.boolean().default(false),
    /** Pulls use the mirrors alone, never the registry itself (air-gapped teams). */
    mirrorsOnly: z.boolean().default(false),
    ca: caBundle.default(null),
    mirrors: z.array(mirrorUrl).max(20, "at most 20 mirrors per registry").default([]),
  })
  .superRefine((input, ctx) => {
    // With no mirror, every pull of the registry would fail: say so now rather than at the next pull.
    if (input.mirrorsOnly && input.mirrors.length === 0) {
      // No path: a form error is shown as it is (a field's would be prefixed "mirrorsOnly: ").
      ctx.addIssue({
        code: "custom",
        message: `${input.domain} is set to use its mirrors only, so it needs at least one mirror (or turn "mirrors only" off)`,
      });
    }
    const seen = new Set<string>();
    for (const [i, url] of input.mirrors.entries()) {
      if (seen.has(url)) ctx.addIssue({ code: "custom", path: ["mirrors", i], message: `mirror ${url} is listed twice` });
      seen.add(url);
      const host = new URL(url).host;
      if (url.startsWith("http:") && !input.insecure && !isLoopbackHost(host)) {
        ctx.addIssue({
          code: "custom",
          path: ["mirrors", i],
          message: `mirror ${url} uses plain HTTP: allowed only for loopback mirrors or when ${input.domain} is marked insecure`,
        });
      }
    }
  });

export const loginRegistryInput = z.object({
  domain: registryDomain,
  username: z.string().trim().min(1, "a username is required").max(256, "username is too long"),
  password: z.string().min(1, "a password is required").max(8192, "password is too long"),
});
