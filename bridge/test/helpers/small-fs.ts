// A really full file system for tests: a small tmpfs mounted on a temp dir (needs root with CAP_SYS_ADMIN, as on a
// developer machine or a privileged CI runner). Where mounting is impossible, mountSmallFs() says why, and the test
// prints "skipped: <why>" instead of pretending; the SQLite-limit tests (PRAGMA max_page_count) still run.
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallFs {
  dir: string;
  /** Fills every free byte with a filler file (ENOSPC reached); returns the bytes written. */
  fill(): number;
  /** Removes the filler: the space comes back. */
  free(): void;
  /** Free bytes now. */
  available(): number;
  unmount(): void;
}

export function mountSmallFs(sizeKb: number): SmallFs | { skipped: string } {
  const dir = mkdtempSync(join(tmpdir(), "small-fs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const detail = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
    return { skipped: `cannot mount a ${sizeKb} KiB tmpfs (needs root with CAP_SYS_ADMIN): ${detail}` };
  }
  const filler = join(dir, "filler");
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(4096, 0x55);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    available() {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      execFileSync("umount", ["-l", dir], { stdio: "pipe" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
