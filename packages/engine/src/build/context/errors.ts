import { EngineError } from "../../errors";
import { bytesSize } from "../../format/units";

/** A path a build asked for that the context cannot give: outside it, escaping through a symlink, missing, excluded. */
export class ContextPathError extends EngineError {
  constructor(message: string) {
    super("INVALID_ARGUMENT", message);
  }
}

/** The context (directory or uploaded tar) holds more than the build accepts. */
export class ContextTooLargeError extends EngineError {
  constructor(readonly maxBytes: number) {
    super("TOO_LARGE", `build context is larger than ${bytesSize(maxBytes)} (${maxBytes} bytes), the most a build accepts`);
  }
}

/** An uploaded context tar that cannot be extracted safely. */
export class InvalidContextError extends EngineError {
  constructor(message: string) {
    super("INVALID_ARGUMENT", `invalid build context: ${message}`);
  }
}
