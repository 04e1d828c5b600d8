import { createHash } from "node:crypto";

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** A content digest, checked on construction. Only sha256 is produced or accepted. */
export class Digest {
  private constructor(readonly hex: string) {}

  static parse(value: string): Digest {
    if (!DIGEST_RE.test(value)) throw new InvalidDigestError(value);
    return new Digest(value.slice("sha256:".length));
  }

  static tryParse(value: string): Digest | undefined {
    return DIGEST_RE.test(value) ? new Digest(value.slice(7)) : undefined;
  }

  static fromHex(hex: string): Digest {
    return Digest.parse(`sha256:${hex}`);
  }

  static of(data: Uint8Array | string): Digest {
    return new Digest(createHash("sha256").update(data).digest("hex"));
  }

  get algorithm(): "sha256" {
    return "sha256";
  }

  /** Docker's 12-character short ID. */
  get short(): string {
    return this.hex.slice(0, 12);
  }

  equals(other: Digest): boolean {
    return this.hex === other.hex;
  }

  toString(): string {
    return `sha256:${this.hex}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export class InvalidDigestError extends Error {
  constructor(readonly value: string) {
    super(`invalid digest "${value}": expected sha256: followed by 64 lower-case hex characters`);
    this.name = "InvalidDigestError";
  }
}
