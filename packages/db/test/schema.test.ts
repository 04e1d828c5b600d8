import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import internals from "@prisma/internals";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configuredTestServerUrl, createTestDatabase, withPg } from "./helpers";

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const SCHEMA = fileURLToPath(new URL("../../../prisma/schema.prisma", import.meta.url));

/** Prisma scalar type (+ native type) → information_schema data_type. */
function expectedDataType(type: string, nativeType: unknown): string {
  const native = Array.isArray(nativeType) ? String(nativeType[0]) : undefined;
  if (native === "Uuid") return "uuid";
  if (native === "Timestamptz") return "timestamp with time zone";
  const byType: Record<string, string> = {
    String: "text",
    Int: "integer",
    BigInt: "bigint",
    Boolean: "boolean",
    Json: "jsonb",
    DateTime: "timestamp without time zone",
  };
  return byType[type] ?? `unmapped ${type}`;
}

describe("the migrations produce schema.prisma", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("runs against the run's shared server, not one per worker", () => {
    expect(configuredTestServerUrl()).toBeTruthy();
  });

  it("has the same tables, columns, types and nullability", async () => {
    const dmmf = await internals.getDMMF({ datamodel: await readFile(SCHEMA, "utf8") });
    const expected: string[] = [];
    for (const model of dmmf.datamodel.models) {
      for (const field of model.fields) {
        if (field.kind !== "scalar") continue;
        const column = field.dbName ?? field.name;
        const nullable = field.isRequired ? "NOT NULL" : "NULL";
        const type = field.isList ? "ARRAY" : expectedDataType(field.type, field.nativeType);
        expected.push(`${model.dbName ?? model.name}.${column} ${type} ${nullable}`);
      }
    }

    const { rows } = await withPg(db.url, (c) =>
      c.query<{
        table_name: string;
        column_name: string;
        data_type: string;
        is_nullable: string;
        datetime_precision: number | null;
      }>(
        `SELECT table_name, column_name, data_type, is_nullable, datetime_precision
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
      ),
    );
    const actual = rows.map((r) => `${r.table_name}.${r.column_name} ${r.data_type} ${r.is_nullable === "YES" ? "NULL" : "NOT NULL"}`);
    expect(actual.sort()).toEqual(expected.sort());

    // Every timestamp is timestamptz(3).
    for (const row of rows.filter((r) => r.data_type.startsWith("timestamp"))) {
      expect(`${row.table_name}.${row.column_name} ${row.datetime_precision}`).toBe(`${row.table_name}.${row.column_name} 3`);
    }
  });

  it("has the primary keys, unique constraints and indexes the models declare", async () => {
    const { rows } = await withPg(db.url, (c) =>
      c.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`),
    );
    const names = rows.map((r) => r.indexname);
    expect(names).toEqual(
      expect.arrayContaining([
        "users_pkey",
        "users_username_key",
        "api_tokens_token_hash_key",
        "image_layers_pkey",
        "image_layers_blob_idx",
        "image_layers_diff_id_idx",
        "tags_pkey",
        "tags_image_id_idx",
        "tag_protection_rules_pkey",
        "tag_protection_rules_namespace_pattern_key",
        "public_namespaces_pkey",
        "audit_events_at_idx",
        "audit_events_actor_name_id_idx",
        "audit_events_action_id_idx",
        "audit_events_result_id_idx",
        "audit_search_terms_pkey",
        "audit_search_terms_kind_value_key",
        "audit_search_terms_value_prefix_idx",
        "audit_search_postings_pkey",
        "settings_pkey",
        "registries_pkey",
        "registry_mirrors_pkey",
        "registry_mirrors_registry_domain_position_idx",
        "invites_pkey",
        "invites_secret_hash_key",
        "namespace_grants_pkey",
        "namespace_grants_namespace_idx",
        "api_tokens_robot_name_key",
      ]),
    );
  });
});
