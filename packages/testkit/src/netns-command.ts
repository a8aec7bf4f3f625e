import { execFileSync, spawn } from 'node:child_process';
import { NetnsError } from './errors.js';

/**
 * Runs `command args` to completion (optionally feeding `input` on stdin) and resolves with its stdout. Rejects
 * with {@link NetnsError} naming the command, its stderr and a short cause: the binary is missing, the process
 * lacks the privilege, or the kernel lacks the feature.
 */
export function runCommand(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ENOENT' ? missingBinaryReason(command) : error.message;
      reject(new NetnsError(`${describe(command, args)}: ${error.message}`, reason, { cause: error }));
    });
    child.once('close', (code) => {
      if (code === 0) return resolve(stdout);
      const detail = stderr.trim() || `exit code ${code}`;
      reject(new NetnsError(`${describe(command, args)} failed: ${detail}`, failureReason(command, detail)));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/**
 * Synchronous best-effort variant for process-exit cleanup ('exit' handlers cannot await): errors are ignored,
 * since the thing to remove may already be gone.
 */
export function runCommandSync(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'ignore'], encoding: 'utf8' });
  } catch {
    return '';
  }
}

function describe(command: string, args: string[]): string {
  return [command, ...args].join(' ');
}

function missingBinaryReason(command: string): string {
  if (command === 'nft') return 'nft missing (install nftables)';
  if (command === 'ip') return 'ip missing (install iproute2)';
  return `${command} missing`;
}

function failureReason(command: string, stderr: string): string {
  if (/operation not permitted|permission denied/i.test(stderr)) {
    return `no CAP_NET_ADMIN/CAP_SYS_ADMIN (uid ${process.getuid?.() ?? '?'}): ${command}: ${stderr.split('\n')[0]}`;
  }
  if (/exec of "?nft"? failed|nft: (command )?not found/i.test(stderr)) return missingBinaryReason('nft');
  if (command === 'ip' && /unknown device type|not supported/i.test(stderr)) {
    return `kernel lacks a network device type the fixture needs (veth): ${stderr}`;
  }
  if (/nft/.test(stderr) || /no such file or directory|could not process rule/i.test(stderr)) {
    return `kernel lacks nf_tables/nf_nat: ${stderr.split('\n')[0]}`;
  }
  return `${command} failed: ${stderr.split('\n')[0]}`;
}
