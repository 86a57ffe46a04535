/**
 * `-u USER` / `-g GROUP` (spec §1.5, iplog_util.c:drop_privs()): run as another user and
 * group once the capture handles and the syslog socket are open. The open descriptors
 * stay usable, so capture goes on; what is lost is the right to open new ones (a SIGHUP
 * then keeps the old capture handles, spec §2.7).
 *
 * Order and texts as the original: the group first (a name, else a decimal number:
 * setgid, then setgroups(0) to drop the supplementary groups), then the user (a name, else
 * a decimal number: setuid). Fatal texts (exit status 255):
 *   Fatal: Unknown group: "<g>"      Fatal: setgid(<n>): <strerror>
 *   Fatal: setgroups(0, NULL): <strerror>
 *   Fatal: Unknown user: "<u>"       Fatal: setuid(<n>): <strerror>
 *
 * Deviation (every profile): `-u` without `-g` kept root's group and all of root's
 * supplementary groups in 2.2.3 (group root can read much of /etc and /var/log). Here
 * `-u` alone also switches to the user's primary group (when the user has a passwd
 * entry) and drops the supplementary groups.
 */
import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { strerror } from '../cli/kill';

/** The process calls used; injectable for tests. */
export interface PrivilegeOps {
  setgid(id: number | string): void;
  setuid(id: number | string): void;
  setgroups(groups: number[]): void;
  /** primary gid of a user (passwd entry), or undefined if it has none */
  primaryGid(user: number | string): number | undefined;
}

export const systemPrivilegeOps: PrivilegeOps = {
  setgid: (id) => process.setgid!(id),
  setuid: (id) => process.setuid!(id),
  setgroups: (g) => process.setgroups!(g),
  primaryGid(user: number | string): number | undefined {
    // Node has no getpwnam(): look at the passwd entry through a temporary effective uid.
    const saved = process.geteuid!();
    try {
      process.seteuid!(user);
    } catch {
      return undefined;
    }
    try {
      return userInfo().gid;
    } catch {
      return undefined;
    } finally {
      process.seteuid!(saved);
    }
  },
};

export type PrivilegeErrorCode = 'IPLOG_ERR_UNKNOWN_USER' | 'IPLOG_ERR_UNKNOWN_GROUP' | 'IPLOG_ERR_SETID';

export class PrivilegeError extends Error {
  constructor(
    message: string,
    readonly code: PrivilegeErrorCode,
  ) {
    super(message);
    this.name = 'PrivilegeError';
  }
}

/** strtoul(s, &end, 10) with *end == '\0': the original's numeric fallback. */
function numericId(text: string): number | undefined {
  if (!/^[ \t\n\v\f\r]*[+]?\d*$/.test(text)) return undefined;
  const digits = text.replace(/[^\d]/g, '');
  return digits === '' ? 0 : Number(digits) % 2 ** 32;
}

/** The number of a user or group name (`getent`), for an error message only. */
function getentId(db: 'passwd' | 'group', name: string): number | undefined {
  const r = spawnSync('getent', [db, name], { encoding: 'utf8', timeout: 2000 });
  const f = r.status === 0 ? r.stdout.split(':') : [];
  return f.length > 2 && /^\d+$/.test(f[2]!) ? Number(f[2]) : undefined;
}

function isUnknownCredential(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ERR_UNKNOWN_CREDENTIAL';
}

/**
 * Switch to (name or number) `id`: by name first, then as a number, as getgrnam()/
 * getpwnam() then strtoul().
 */
function switchTo(kind: 'group' | 'user', id: string, set: (v: number | string) => void): void {
  const label = kind === 'group' ? 'group' : 'user';
  const call = kind === 'group' ? 'setgid' : 'setuid';
  const errCode: PrivilegeErrorCode = kind === 'group' ? 'IPLOG_ERR_UNKNOWN_GROUP' : 'IPLOG_ERR_UNKNOWN_USER';
  try {
    set(id);
    return;
  } catch (e) {
    if (!isUnknownCredential(e)) {
      // a known name that could not be set: the message shows its number, as 2.2.3's
      const n = getentId(kind === 'group' ? 'group' : 'passwd', id) ?? numericId(id);
      throw new PrivilegeError(`${call}(${n ?? id}): ${strerror(e)}`, 'IPLOG_ERR_SETID');
    }
  }
  const n = numericId(id);
  if (n === undefined) throw new PrivilegeError(`Unknown ${label}: "${id}"`, errCode);
  try {
    set(n);
  } catch (e) {
    throw new PrivilegeError(`${call}(${n}): ${strerror(e)}`, 'IPLOG_ERR_SETID');
  }
}

/** drop_privs(user, group). Throws PrivilegeError (message without "Fatal: "). */
export function dropPrivileges(user: string | undefined, group: string | undefined, ops: PrivilegeOps = systemPrivilegeOps): void {
  if (group !== undefined) {
    switchTo('group', group, (v) => ops.setgid(v));
    try {
      ops.setgroups([]);
    } catch (e) {
      throw new PrivilegeError(`setgroups(0, NULL): ${strerror(e)}`, 'IPLOG_ERR_SETID');
    }
  }
  if (user !== undefined) {
    if (group === undefined) {
      const num = numericId(user);
      const gid = ops.primaryGid(user) ?? (num !== undefined ? ops.primaryGid(num) : undefined);
      try {
        if (gid !== undefined) ops.setgid(gid);
        ops.setgroups([]);
      } catch {
        // not permitted (not root): setuid() below fails and says so
      }
    }
    switchTo('user', user, (v) => ops.setuid(v));
  }
}
