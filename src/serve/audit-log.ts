import { open, type FileHandle } from 'node:fs/promises';
import { UserError, messageOf } from '../errors.js';

/**
 * An append-only JSON-lines file: one line per digest (or other request), a request's lines written with one write (O_APPEND keeps
 * lines whole with requests in parallel) and on disk (fdatasync) before the answer leaves. Waiting
 * writers share one fdatasync, so many requests at once cost one disk flush, not one each.
 */
export class AuditLog {
  private waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private syncing = false;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<AuditLog> {
    const handle = await open(path, 'a', 0o640).catch((error: unknown) => {
      throw new UserError(`auditLog ${path}: cannot open it for appending: ${messageOf(error)}`);
    });
    return new AuditLog(handle, path);
  }

  /** Appends `records` as lines, with the time first, in one write; resolves once they are on disk. */
  async write(records: readonly Record<string, unknown>[]): Promise<void> {
    const time = new Date().toISOString();
    const lines = Buffer.from(records.map((record) => `${JSON.stringify({ time, ...record })}\n`).join(''));
    // One write or none: finishing a short one later could land inside another request's lines.
    const { bytesWritten } = await this.handle.write(lines);
    if (bytesWritten !== lines.length)
      throw new Error(`the audit log took ${bytesWritten} of ${lines.length} bytes (is the disk full?)`);
    await new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.syncing) void this.flush();
    });
  }

  /** One fdatasync for everyone whose line was written before it started. */
  private async flush(): Promise<void> {
    this.syncing = true;
    while (this.waiting.length) {
      const batch = this.waiting.splice(0);
      try {
        await this.handle.datasync();
        batch.forEach((writer) => writer.resolve());
      } catch (error) {
        batch.forEach((writer) => writer.reject(error));
      }
    }
    this.syncing = false;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
