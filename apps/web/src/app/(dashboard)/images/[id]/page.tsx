"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { Guarded } from "~/components/account/guarded";
import { ImageHistory } from "~/components/audit/image-history";
import { ImageAttachments } from "~/components/images/image-attachments";
import { CommitDialog } from "~/components/images/commit-dialog";
import { MirrorCacheBadge } from "~/components/images/mirror-cache-badge";
import { LayerCheckNotice } from "~/components/images/layer-check-notice";
import { RemoveDialog } from "~/components/images/remove-dialog";
import { PushDialog } from "~/components/jobs/push-dialog";
import { PinToggle } from "~/components/protection/pin-toggle";
import { ProtectedTagBadge } from "~/components/protection/protected-tag-badge";
import { PageHeader } from "~/components/shell/app-shell";
import {
  Button,
  ButtonLink,
  Card,
  CardHeader,
  CopyButton,
  CopyField,
  cn,
  EmptyState,
  ErrorState,
  Input,
  Skeleton,
  Table,
  TableSkeleton,
  TBody,
  Td,
  Th,
  THead,
  Tr,
} from "~/components/ui";
import { errorMessage, formatBytes, formatDateTime, formatRelative, shortId } from "~/lib/format";
import { layersWithSizes, refFromParam, toInspectView } from "~/lib/models";
import { useTRPC } from "~/trpc/react";

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[8rem_1fr] items-center gap-2 py-1.5 text-sm">
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </div>
  );
}

/** A history entry's full CREATED BY: clamped to three lines (whole text in the tooltip), expandable. */
function CreatedBy({ text }: { text: string }) {
  const [expanded, setExpanded] = useState(false);
  const long = text.length > 240 || text.split("\n").length > 3;
  return (
    <div className="min-w-0">
      <code
        className={cn("block font-mono text-xs whitespace-pre-wrap wrap-anywhere", long && !expanded && "line-clamp-3")}
        title={text}
        data-testid="history-created-by"
      >
        {text}
      </code>
      {long ? (
        <button
          type="button"
          className="mt-0.5 text-xs font-medium text-sky-700 hover:underline dark:text-sky-400"
          aria-expanded={expanded}
          onClick={() => setExpanded((v) => !v)}
        >
          {expanded ? "Show less" : "Show all"}
        </button>
      ) : null}
    </div>
  );
}

export default function ImagePage() {
  const params = useParams<{ id: string }>();
  const ref = refFromParam(params.id);
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();

  const inspect = useQuery(trpc.images.inspect.queryOptions({ refs: [ref] }));
  const history = useQuery(trpc.images.history.queryOptions({ ref, noTrunc: true }));
  const [newTag, setNewTag] = useState("");
  const [removeRef, setRemoveRef] = useState<string | null>(null);
  const [showJson, setShowJson] = useState(false);
  const [pushOpen, setPushOpen] = useState(false);
  const [commitOpen, setCommitOpen] = useState(false);

  const tag = useMutation(
    trpc.images.tag.mutationOptions({
      onSuccess: async () => {
        setNewTag("");
        await queryClient.invalidateQueries();
      },
    }),
  );

  const image = useMemo(() => {
    const first = inspect.data?.images[0];
    return first ? toInspectView(first) : null;
  }, [inspect.data]);
  const historyRows = useMemo(() => history.data ?? [], [history.data]);
  const layers = useMemo(() => (image ? layersWithSizes(image.layers, historyRows) : []), [image, historyRows]);

  function onAddTag(event: FormEvent) {
    event.preventDefault();
    if (!image || !newTag.trim()) return;
    tag.mutate({ source: image.id, target: newTag.trim() });
  }

  if (inspect.isPending) {
    return (
      <div className="space-y-4" role="status" aria-label="Loading image">
        <Skeleton className="h-8 w-72" />
        <Skeleton className="h-40 w-full" />
        <Skeleton className="h-40 w-full" />
      </div>
    );
  }
  if (inspect.error) {
    return <ErrorState title="Could not load this image" message={errorMessage(inspect.error)} onRetry={() => void inspect.refetch()} />;
  }
  if (!image) {
    return (
      <EmptyState
        title="Image not found"
        action={
          <ButtonLink href="/" variant="primary">
            Back to images
          </ButtonLink>
        }
      >
        No image matches <code className="font-mono">{ref}</code>. It may have been removed.
      </EmptyState>
    );
  }

  const primary = image.repoTags[0] ?? image.id;
  const archiveRef = image.repoTags[0] ?? image.id;
  const json = JSON.stringify(image.raw, null, 2);

  return (
    <>
      <nav aria-label="Breadcrumb" className="mb-2 text-sm text-slate-500 dark:text-slate-400">
        <Link href="/" className="hover:underline">
          Images
        </Link>{" "}
        / <span className="font-mono">{shortId(image.id)}</span>
      </nav>
      <PageHeader
        title={primary === image.id ? `Image ${shortId(image.id)}` : primary}
        description={
          <span>
            {formatBytes(image.size)} · {image.os}/{image.architecture}
            {image.variant ? `/${image.variant}` : ""} · created {formatRelative(image.created)}
          </span>
        }
        actions={
          <>
            <MirrorCacheBadge imageRef={image.id} />
            <PinToggle imageRef={image.repoTags[0] ?? image.id} />
            <Guarded action="load">
              {(ok) => (
                <Button onClick={() => setCommitOpen(true)} disabled={!ok} data-testid="image-edit-files">
                  Edit files
                </Button>
              )}
            </Guarded>
            <Guarded action="push">
              {(ok) => (
                <Button
                  onClick={() => setPushOpen(true)}
                  disabled={!ok || image.repoTags.length === 0}
                  title={image.repoTags.length === 0 ? "Add a tag naming a registry first" : undefined}
                  data-testid="image-push"
                >
                  Push
                </Button>
              )}
            </Guarded>
            <ButtonLink
              href={`/api/images/save?ref=${encodeURIComponent(archiveRef)}`}
              external
              download
              variant="primary"
              data-testid="image-download"
            >
              Download archive
            </ButtonLink>
          </>
        }
      />

      <LayerCheckNotice imageRef={image.id} />

      <div className="grid gap-4 lg:grid-cols-2">
        <Card data-testid="image-overview">
          <CardHeader title="Overview" />
          <dl className="divide-y divide-slate-100 dark:divide-slate-800">
            <Row label="ID">
              <CopyField text={image.id} testId="image-id" />
            </Row>
            <Row label="Created">
              {formatDateTime(image.created)} <span className="text-slate-500">({formatRelative(image.created)})</span>
            </Row>
            <Row label="Size">{formatBytes(image.size)}</Row>
            <Row label="Platform">
              {image.os || "?"}/{image.architecture || "?"}
              {image.variant ? `/${image.variant}` : ""}
            </Row>
            {image.author ? <Row label="Author">{image.author}</Row> : null}
            {image.entrypoint.length || image.cmd.length ? (
              <Row label="Command">
                <code className="font-mono text-xs">{[...image.entrypoint, ...image.cmd].join(" ")}</code>
              </Row>
            ) : null}
            {image.workingDir ? <Row label="Working dir">{image.workingDir}</Row> : null}
            {image.user ? <Row label="User">{image.user}</Row> : null}
            {image.exposedPorts.length ? <Row label="Ports">{image.exposedPorts.join(", ")}</Row> : null}
            {image.repoDigests.length ? (
              <Row label="Digests">
                <div className="space-y-1">
                  {image.repoDigests.map((d) => (
                    <CopyField key={d} text={d} />
                  ))}
                </div>
              </Row>
            ) : null}
            {image.repoTags[0] ? (
              <Row label="Pull">
                <CopyField text={`docker pull ${image.repoTags[0]}`} testId="image-pull" />
              </Row>
            ) : null}
          </dl>
        </Card>

        <Card data-testid="image-tags">
          <CardHeader title="Tags" description="Each tag is a name pointing at this image." />
          {image.repoTags.length === 0 ? (
            <p className="mb-3 text-sm text-slate-500 dark:text-slate-400">This image is dangling: it has no tags.</p>
          ) : (
            <ul className="mb-3 divide-y divide-slate-100 dark:divide-slate-800">
              {image.repoTags.map((t) => (
                <li key={t} data-testid="image-tag" data-ref={t} className="flex items-center justify-between gap-2 py-1.5">
                  <code className="min-w-0 truncate font-mono text-sm">{t}</code>
                  <div className="flex shrink-0 gap-1.5">
                    <ProtectedTagBadge imageRef={image.repoTags[0] ?? image.id} reference={t} />
                    <CopyButton text={t} />
                    <Guarded action="remove" reference={t}>
                      {(ok) => (
                        <Button size="sm" variant="danger" disabled={!ok} onClick={() => setRemoveRef(t)} data-testid="image-tag-remove">
                          Remove
                        </Button>
                      )}
                    </Guarded>
                  </div>
                </li>
              ))}
            </ul>
          )}
          <form onSubmit={onAddTag} className="flex items-end gap-2">
            <div className="flex-1">
              <label htmlFor="new-tag" className="mb-1 block text-xs font-medium text-slate-600 dark:text-slate-400">
                Add tag (repository:tag)
              </label>
              <Input
                id="new-tag"
                placeholder="team/app:v2"
                value={newTag}
                onChange={(e) => setNewTag(e.target.value)}
                data-testid="image-tag-input"
              />
            </div>
            <Guarded action="tag">
              {(ok) => (
                <Button
                  type="submit"
                  variant="primary"
                  loading={tag.isPending}
                  disabled={!ok || !newTag.trim()}
                  data-testid="image-tag-add"
                >
                  Add tag
                </Button>
              )}
            </Guarded>
          </form>
          {tag.error ? <ErrorState className="mt-3" title="Tag failed" message={errorMessage(tag.error)} /> : null}
        </Card>

        <Card className="lg:col-span-2" data-testid="image-labels">
          <CardHeader title="Labels" />
          {Object.keys(image.labels).length === 0 ? (
            <p className="text-sm text-slate-500 dark:text-slate-400">No labels.</p>
          ) : (
            <dl className="grid gap-x-4 gap-y-1 font-mono text-xs sm:grid-cols-[minmax(12rem,auto)_1fr]">
              {Object.entries(image.labels).map(([k, v]) => (
                <div key={k} className="contents">
                  <dt className="truncate text-slate-500 dark:text-slate-400" title={k}>
                    {k}
                  </dt>
                  <dd className="break-all">{v}</dd>
                </div>
              ))}
            </dl>
          )}
        </Card>
      </div>

      <section className="mt-6" aria-labelledby="layers-heading">
        <h2 id="layers-heading" className="mb-2 text-sm font-semibold">
          Layers <span className="font-normal text-slate-500">({image.layers.length})</span>
        </h2>
        {image.layers.length === 0 ? (
          <EmptyState title="No layers" />
        ) : (
          <Table data-testid="image-layers">
            <THead>
              <tr>
                <Th className="w-10">#</Th>
                <Th>Diff ID</Th>
                <Th className="text-right">Size</Th>
              </tr>
            </THead>
            <TBody>
              {layers.map((l, i) => (
                <Tr key={`${l.diffId}-${i}`}>
                  <Td className="text-slate-500 tabular-nums">{i + 1}</Td>
                  <Td className="font-mono text-xs break-all">{l.diffId}</Td>
                  <Td className="text-right whitespace-nowrap tabular-nums">{formatBytes(l.size)}</Td>
                </Tr>
              ))}
            </TBody>
          </Table>
        )}
      </section>

      <section className="mt-6" aria-labelledby="history-heading">
        <h2 id="history-heading" className="mb-2 text-sm font-semibold">
          History
        </h2>
        {history.isPending ? (
          <TableSkeleton rows={3} />
        ) : history.error ? (
          <ErrorState title="Could not load history" message={errorMessage(history.error)} />
        ) : historyRows.length === 0 ? (
          <EmptyState title="No history recorded in the image config" />
        ) : (
          <Table data-testid="image-history">
            <THead>
              <tr>
                <Th>Image</Th>
                <Th>Created</Th>
                <Th>Created by</Th>
                <Th className="text-right">Size</Th>
                <Th>Comment</Th>
              </tr>
            </THead>
            <TBody>
              {historyRows.map((h, i) => (
                <Tr key={i}>
                  <Td className="font-mono text-xs">{h.id.startsWith("sha256:") ? shortId(h.id) : h.id}</Td>
                  <Td className="whitespace-nowrap" title={formatDateTime(h.created)}>
                    {formatRelative(h.created)}
                  </Td>
                  <Td className="max-w-xl min-w-64">
                    <CreatedBy text={h.createdBy} />
                  </Td>
                  <Td className="text-right whitespace-nowrap tabular-nums">{formatBytes(h.size)}</Td>
                  <Td className="text-xs text-slate-500">{h.comment}</Td>
                </Tr>
              ))}
            </TBody>
          </Table>
        )}
      </section>

      <section className="mt-6" aria-labelledby="inspect-heading">
        <div className="mb-2 flex items-center justify-between gap-2">
          <h2 id="inspect-heading" className="text-sm font-semibold">
            Inspect
          </h2>
          <div className="flex gap-2">
            <CopyButton text={json} label="Copy JSON" />
            <Button size="sm" onClick={() => setShowJson((v) => !v)} aria-expanded={showJson} data-testid="image-inspect-toggle">
              {showJson ? "Hide JSON" : "Show JSON"}
            </Button>
          </div>
        </div>
        {showJson ? (
          <pre
            data-testid="image-inspect-json"
            className="max-h-[32rem] overflow-auto rounded-lg border border-slate-200 bg-white p-3 font-mono text-xs leading-relaxed dark:border-slate-800 dark:bg-slate-900"
          >
            {json}
          </pre>
        ) : null}
      </section>

      <ImageAttachments imageRef={image.id} />

      <ImageHistory imageId={image.id} />

      <PushDialog open={pushOpen} onClose={() => setPushOpen(false)} repoTags={image.repoTags} />

      <CommitDialog
        open={commitOpen}
        onClose={() => setCommitOpen(false)}
        base={image.id}
        suggestedTag={image.repoTags[0] ? `${image.repoTags[0].replace(/:[^:/]*$/, "")}:edited` : "team/app:edited"}
      />

      <RemoveDialog
        refs={removeRef ? [removeRef] : []}
        open={removeRef !== null}
        onClose={() => setRemoveRef(null)}
        onDone={() => {
          // Removing the last tag deletes the image: go back to the list then.
          if (image.repoTags.length <= 1) router.push("/");
        }}
      />
    </>
  );
}
