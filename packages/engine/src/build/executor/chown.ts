/** A `--chown=user[:group]` resolved to numeric ids. */
export interface Owner {
  uid: number;
  gid: number;
}

export interface IdFiles {
  /** Contents of the stage's /etc/passwd and /etc/group, undefined when the image has none. */
  passwd?: string;
  group?: string;
}

const NUMERIC = /^[0-9]+$/;

/** True when resolving the value needs the image's /etc/passwd or /etc/group. */
export function chownNeedsNames(value: string): boolean {
  return value.split(":").some((part) => part !== "" && !NUMERIC.test(part));
}

/**
 * Resolves --chown like docker: numbers are taken as they are; a user name is looked up in
 * /etc/passwd, a group name in /etc/group; without a group the gid is the uid (docker's documented rule).
 * Throws an Error whose message says what could not be found.
 */
export function resolveChown(value: string, files: IdFiles): Owner {
  const [user = "", group, ...rest] = value.split(":");
  if (user === "" || rest.length > 0 || group === "")
    throw new Error(`invalid --chown value ${JSON.stringify(value)}: expected user[:group]`);
  let uid: number;
  if (NUMERIC.test(user)) {
    uid = Number(user);
  } else {
    const entry = findEntry(files.passwd, user, "/etc/passwd", "user");
    uid = Number(entry[2]);
  }
  let gid: number;
  // Docker's documented rule: a user without a group gets the gid equal to its uid.
  if (group === undefined) gid = uid;
  else if (NUMERIC.test(group)) gid = Number(group);
  else gid = Number(findEntry(files.group, group, "/etc/group", "group")[2]);
  for (const id of [uid, gid]) {
    if (!Number.isSafeInteger(id) || id < 0 || id > 0xffffffff)
      throw new Error(`invalid --chown value ${JSON.stringify(value)}: id out of range`);
  }
  return { uid, gid };
}

function findEntry(content: string | undefined, name: string, file: string, what: string): string[] {
  if (content === undefined) throw new Error(`unable to find ${what} ${name}: the image has no ${file}`);
  for (const line of content.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 3 && NUMERIC.test(fields[2] ?? "")) return fields;
  }
  throw new Error(`unable to find ${what} ${name}: no matching entries in ${file}`);
}
