"use client";

import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Button, Card, Field, Input, Select } from "~/components/ui";
import {
  EMPTY_FILTERS,
  hasFilters,
  isoToLocalInput,
  localInputToIso,
  type AuditFilterField,
  type AuditFilterValues,
} from "~/lib/audit-filters";
import { useTRPC } from "~/trpc/react";

const TEXT_FIELDS: { field: AuditFilterField; label: string; placeholder: string; hint?: string }[] = [
  { field: "person", label: "Person", placeholder: "username or robot:name" },
  { field: "action", label: "Action", placeholder: "image.tag or image.*" },
  { field: "namespace", label: "Namespace", placeholder: "e.g. team-a" },
  { field: "repository", label: "Repository", placeholder: "e.g. team-a/app" },
  { field: "tag", label: "Tag", placeholder: "v1.2 or team-a/app:v1.2" },
  { field: "digest", label: "Digest", placeholder: "sha256:… or 12+ hex" },
];

/** The audit page's filter form; applies on submit, the applied filters live in the URL. */
export function AuditFilters({ applied, onApply }: { applied: AuditFilterValues; onApply: (values: AuditFilterValues) => void }) {
  const trpc = useTRPC();
  const actions = useQuery(trpc.audit.actions.queryOptions(undefined, { staleTime: 60_000 }));
  // The page gives this form a new key when the URL changes (back/forward, links): it starts from what is applied.
  const [draft, setDraft] = useState<AuditFilterValues>(applied);
  const set = (field: AuditFilterField, value: string) => setDraft((d) => ({ ...d, [field]: value }));

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    onApply(draft);
  }

  return (
    <Card className="mb-4">
      <form onSubmit={onSubmit} className="grid items-end gap-3 sm:grid-cols-2 lg:grid-cols-4 xl:grid-cols-5" aria-label="Audit filters">
        {TEXT_FIELDS.map(({ field, label, placeholder }) => (
          <Field key={field} label={label}>
            {(id) => (
              <Input
                id={id}
                placeholder={placeholder}
                value={draft[field]}
                list={field === "action" ? "audit-actions" : undefined}
                onChange={(e) => set(field, e.target.value)}
                data-testid={`audit-filter-${field}`}
              />
            )}
          </Field>
        ))}
        <datalist id="audit-actions">
          {[...new Set((actions.data ?? []).flatMap((a) => [a, `${a.split(".")[0]}.*`]))].sort().map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <Field label="Result">
          {(id) => (
            <Select id={id} value={draft.result} onChange={(e) => set("result", e.target.value)} data-testid="audit-filter-result">
              <option value="">any</option>
              <option value="ok">ok</option>
              <option value="denied">denied</option>
              <option value="failed">failed</option>
            </Select>
          )}
        </Field>
        <Field label="From">
          {(id) => (
            <Input
              id={id}
              type="datetime-local"
              value={isoToLocalInput(draft.from)}
              onChange={(e) => set("from", localInputToIso(e.target.value))}
              data-testid="audit-filter-from"
            />
          )}
        </Field>
        <Field label="To">
          {(id) => (
            <Input
              id={id}
              type="datetime-local"
              value={isoToLocalInput(draft.to)}
              onChange={(e) => set("to", localInputToIso(e.target.value))}
              data-testid="audit-filter-to"
            />
          )}
        </Field>
        <div className="flex gap-2">
          <Button type="submit" variant="primary" data-testid="audit-filter-apply">
            Apply
          </Button>
          <Button
            disabled={!hasFilters(applied) && !hasFilters(draft)}
            onClick={() => {
              setDraft(EMPTY_FILTERS);
              onApply(EMPTY_FILTERS);
            }}
            data-testid="audit-filter-clear"
          >
            Clear
          </Button>
        </div>
      </form>
    </Card>
  );
}
