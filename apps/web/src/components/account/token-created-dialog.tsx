import { Button, CopyField, Dialog } from "~/components/ui";

export interface CreatedToken {
  name: string;
  token: string;
  kind: "personal" | "robot";
  /** What the robot cannot do today because its creator cannot (it never exceeds them). */
  warnings: string[];
}

/** Shows a new token's secret once, with anything worth knowing about its scope. */
export function TokenCreatedDialog({ created, onClose }: { created: CreatedToken | null; onClose: () => void }) {
  return (
    <Dialog
      open={created !== null}
      onClose={onClose}
      testId="token-created"
      title={`${created?.kind === "robot" ? "Robot token" : "Token"} “${created?.name ?? ""}” created`}
      description="Copy it now: Berth stores only a hash and cannot show it again."
      footer={
        <Button variant="primary" onClick={onClose} data-testid="token-created-done">
          I have copied it
        </Button>
      }
    >
      {created ? (
        <div className="space-y-3">
          <CopyField text={created.token} testId="token-secret" fit="break" />
          {created.warnings.length > 0 ? (
            <div
              data-testid="token-warnings"
              className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-xs text-amber-900 dark:border-amber-900 dark:bg-amber-950/50 dark:text-amber-200"
            >
              <p className="font-medium">It was created, but for now it cannot do everything it is scoped for:</p>
              <ul className="mt-1 list-disc space-y-0.5 pl-4">
                {created.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </div>
          ) : null}
        </div>
      ) : null}
    </Dialog>
  );
}
