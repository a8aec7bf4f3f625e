/**
 * CPU seconds (user + system) spent by the processes of a measure: `run --direct` children from /proc, and
 * redis-servers from INFO cpu including their reaped children (the fork that writes the RDB for a full sync).
 */
import { readFile } from 'node:fs/promises';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** utime + stime of a live process, in seconds (0 once it is gone). */
export async function processCpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS_PER_SECOND;
}

/** A redis-server's CPU seconds so far, its own and its reaped children's. */
export async function serverCpuSeconds(server) {
  const cpu = await server.info('cpu');
  return ['used_cpu_user', 'used_cpu_sys', 'used_cpu_user_children', 'used_cpu_sys_children'].reduce(
    (sum, field) => sum + Number(cpu[field] ?? 0),
    0,
  );
}
