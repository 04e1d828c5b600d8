"use client";

import { Field, Input } from "~/components/ui";

/** A new password and its repetition (marked invalid while they differ), for forms that set one. */
export function NewPasswordFields(props: {
  password: string;
  repeat: string;
  onPassword(value: string): void;
  onRepeat(value: string): void;
  passwordLabel: string;
  repeatLabel: string;
  testIds: { password: string; repeat: string };
  /** The password input's form name, for password managers. */
  name?: string;
}) {
  const mismatch = props.repeat !== "" && props.repeat !== props.password;
  return (
    <>
      <Field label={props.passwordLabel}>
        {(id) => (
          <Input
            id={id}
            name={props.name}
            type="password"
            autoComplete="new-password"
            required
            minLength={8}
            value={props.password}
            onChange={(e) => props.onPassword(e.target.value)}
            data-testid={props.testIds.password}
          />
        )}
      </Field>
      <Field label={props.repeatLabel}>
        {(id) => (
          <Input
            id={id}
            type="password"
            autoComplete="new-password"
            required
            value={props.repeat}
            onChange={(e) => props.onRepeat(e.target.value)}
            aria-invalid={mismatch}
            data-testid={props.testIds.repeat}
          />
        )}
      </Field>
    </>
  );
}
