/**
 * What the memory tests read about a server process from Linux /proc:
 * its resident memory and its open-files limit.
 */

import fs from 'node:fs';

/** Resident memory of process `pid` in bytes: now (VmRSS) and its peak since start (VmHWM), from /proc/<pid>/status. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (m === null) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** The soft limit on open file descriptors of process `pid` ("Max open files" in /proc/<pid>/limits); Infinity when unlimited. */
export function openFilesLimit(pid: number | 'self'): number {
  const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  if (m === null) throw new Error(`no "Max open files" in /proc/${pid}/limits`);
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** Megabytes (10^6 bytes), one decimal: how the tests print and compare memory. */
export const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
