import { Field, Input } from "~/components/ui";

const MAX_DAYS = 3650;

/** "" is no expiry; otherwise a whole number of days from 1 to 3650. */
export function parseExpiryDays(text: string): { days: number | undefined; invalid: boolean } {
  if (!text.trim()) return { days: undefined, invalid: false };
  const days = Number(text);
  return { days, invalid: !Number.isInteger(days) || days <= 0 || days > MAX_DAYS };
}

export function ExpiryField({
  value,
  onChange,
  invalid,
  testId,
}: {
  value: string;
  onChange: (value: string) => void;
  invalid: boolean;
  testId: string;
}) {
  return (
    <Field label="Expires after (days, optional)">
      {(id) => (
        <Input
          id={id}
          type="number"
          min={1}
          max={MAX_DAYS}
          placeholder="never"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={invalid}
          data-testid={testId}
        />
      )}
    </Field>
  );
}
