"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Badge, Button, Card, CardHeader, Checkbox, Dialog, ErrorState, Field, Input, inputClasses } from "~/components/ui";
import { useTRPC } from "~/trpc/react";
import { CredentialsForm } from "./credentials-form";
import { MirrorTable } from "./mirror-table";
import { registryErrorMessage, type RegistryRow } from "./types";

/**
 * One registry: its mirrors (ordered, with health), the insecure and mirrors-only flags, the CA
 * bundle, and the team's credentials. Admins edit and save the settings as one change (one audit
 * event); everyone else sees them read-only and may test mirrors.
 */
export function RegistryCard({ registry, editable }: { registry: RegistryRow; editable: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const savedUrls = registry.mirrors.map((m) => m.url);
  const [mirrors, setMirrors] = useState(savedUrls);
  const [insecure, setInsecure] = useState(registry.insecure);
  const [mirrorsOnly, setMirrorsOnly] = useState(registry.mirrorsOnly);
  const [ca, setCa] = useState(registry.ca ?? "");
  const [newMirror, setNewMirror] = useState("");
  const [removing, setRemoving] = useState(false);

  // A saved change (here or elsewhere) becomes the new starting point of the form.
  const savedKey = `${savedUrls.join("\n")}|${registry.insecure}|${registry.mirrorsOnly}|${registry.ca ?? ""}`;
  useEffect(() => {
    setMirrors(registry.mirrors.map((m) => m.url));
    setInsecure(registry.insecure);
    setMirrorsOnly(registry.mirrorsOnly);
    setCa(registry.ca ?? "");
    // savedKey stands for the four saved values: health refreshes do not reset the form.
  }, [savedKey]);

  const invalidate = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.registries.list.queryKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.registries.daemonJson.queryKey() });
  };
  const save = useMutation(trpc.registries.save.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(trpc.registries.remove.mutationOptions({ onSuccess: invalidate }));

  const dirty =
    mirrors.join("\n") !== savedUrls.join("\n") ||
    insecure !== registry.insecure ||
    mirrorsOnly !== registry.mirrorsOnly ||
    ca.trim() !== (registry.ca ?? "").trim();

  const pullOrder = registry.mirrorsOnly
    ? `Pulls try the mirrors in this order, never ${registry.domain} itself`
    : `Pulls try the mirrors in this order, then ${registry.domain}`;

  function addMirror(e: FormEvent) {
    e.preventDefault();
    const url = newMirror.trim().replace(/\/+$/, "");
    if (!url) return;
    setMirrors([...mirrors, url]);
    setNewMirror("");
  }

  return (
    <Card className="mb-4" data-testid="registry-card" data-domain={registry.domain}>
      <CardHeader
        title={
          <span className="flex items-center gap-2">
            <span className="font-mono" data-testid="registry-domain">
              {registry.domain}
            </span>
            {registry.insecure ? <Badge tone="warning">insecure</Badge> : null}
            {registry.mirrorsOnly ? <Badge tone="info">mirrors only</Badge> : null}
            {registry.ca ? <Badge tone="info">custom CA</Badge> : null}
          </span>
        }
        description={registry.domain === "docker.io" ? "Docker Hub: where references without a registry go." : undefined}
        actions={
          editable && registry.removable ? (
            <Button size="sm" variant="danger" onClick={() => setRemoving(true)} data-testid="registry-remove">
              Remove
            </Button>
          ) : null
        }
      />

      <h3 className="mb-2 text-sm font-medium text-slate-800 dark:text-slate-200">Mirrors</h3>
      {mirrors.length === 0 ? (
        <p className="mb-3 text-sm text-slate-500 dark:text-slate-400" data-testid="mirrors-none">
          No mirrors: pulls go to {registry.domain} directly.
        </p>
      ) : (
        <div className="mb-3">
          <MirrorTable domain={registry.domain} urls={mirrors} saved={registry.mirrors} editable={editable} onChange={setMirrors} />
          <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
            {pullOrder}. A mirror that fails is tried after the healthy ones for a minute.
          </p>
        </div>
      )}

      {editable ? (
        <>
          <form onSubmit={addMirror} className="mb-4 flex items-end gap-2" aria-label={`Add a mirror to ${registry.domain}`}>
            <Field label="Add a mirror" className="flex-1">
              {(id) => (
                <Input
                  id={id}
                  placeholder="https://mirror.example.com"
                  value={newMirror}
                  onChange={(e) => setNewMirror(e.target.value)}
                  data-testid="mirror-new-url"
                />
              )}
            </Field>
            <Button type="submit" disabled={!newMirror.trim()} data-testid="mirror-add">
              Add
            </Button>
          </form>
          <div className="mb-3">
            <Checkbox
              label="Insecure: allow plain HTTP and unverified TLS"
              checked={insecure}
              onChange={(e) => setInsecure(e.target.checked)}
              data-testid="registry-insecure"
            />
          </div>
          <div className="mb-3">
            <Checkbox
              label="Mirrors only: never pull from the registry itself"
              checked={mirrorsOnly}
              onChange={(e) => setMirrorsOnly(e.target.checked)}
              data-testid="registry-mirrors-only"
            />
            <p className="mt-1 ml-6 text-xs text-slate-500 dark:text-slate-400">
              For air-gapped networks: when every mirror fails, the pull fails instead of reaching {registry.domain}. Pushes and searches
              still go to {registry.domain}.
            </p>
          </div>
          <Field label="CA bundle (PEM, trusted in addition to the system's)" className="mb-3">
            {(id) => (
              <textarea
                id={id}
                rows={ca ? 6 : 2}
                placeholder="-----BEGIN CERTIFICATE-----"
                className={`${inputClasses} h-auto py-2 font-mono text-xs`}
                value={ca}
                onChange={(e) => setCa(e.target.value)}
                data-testid="registry-ca"
              />
            )}
          </Field>
          <div className="mb-4 flex items-center gap-2">
            <Button
              variant="primary"
              disabled={!dirty}
              loading={save.isPending}
              onClick={() => save.mutate({ domain: registry.domain, mirrors, insecure, mirrorsOnly, ca: ca.trim() ? ca : null })}
              data-testid="registry-save"
            >
              Save
            </Button>
            {dirty ? (
              <Button
                variant="ghost"
                onClick={() => {
                  setMirrors(savedUrls);
                  setInsecure(registry.insecure);
                  setMirrorsOnly(registry.mirrorsOnly);
                  setCa(registry.ca ?? "");
                  save.reset();
                }}
              >
                Discard changes
              </Button>
            ) : null}
          </div>
          {save.error ? <ErrorState className="mb-4" title="Not saved" message={registryErrorMessage(save.error)} /> : null}
        </>
      ) : (
        <dl className="mb-4 grid grid-cols-[8rem_1fr] gap-1 text-sm">
          <dt className="text-slate-500">Insecure</dt>
          <dd data-testid="registry-insecure-readonly">{registry.insecure ? "yes" : "no"}</dd>
          <dt className="text-slate-500">Mirrors only</dt>
          <dd data-testid="registry-mirrors-only-readonly">{registry.mirrorsOnly ? "yes (never pulls from the registry itself)" : "no"}</dd>
          <dt className="text-slate-500">CA bundle</dt>
          <dd>{registry.ca ? <pre className="max-h-32 overflow-auto font-mono text-xs">{registry.ca}</pre> : "system roots only"}</dd>
        </dl>
      )}

      <CredentialsForm registry={registry} editable={editable} />

      <Dialog
        open={removing}
        onClose={() => {
          setRemoving(false);
          remove.reset();
        }}
        testId="registry-remove-dialog"
        title={`Remove ${registry.domain}?`}
        description="Its mirrors, settings and stored credentials are deleted. Pulls then reach it directly and anonymously."
        footer={
          <>
            <Button onClick={() => setRemoving(false)}>Cancel</Button>
            <Button
              variant="danger"
              loading={remove.isPending}
              onClick={() => remove.mutate({ domain: registry.domain })}
              data-testid="registry-remove-confirm"
            >
              Remove
            </Button>
          </>
        }
      >
        {remove.error ? <ErrorState title="Could not remove" message={registryErrorMessage(remove.error)} /> : null}
      </Dialog>
    </Card>
  );
}
