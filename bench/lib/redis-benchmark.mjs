/** redis-benchmark as the bench drives it: a looping load until stopped, or one measured run. */
import { spawn, spawnSync } from 'node:child_process';
import { own, releaseNow } from './resources.mjs';

/**
 * redis-benchmark against `server`, looping (`-l`) over `tests` with `args` until stop(); stop() throws if it had
 * exited on its own (a refused connection, a missing binary).
 * @param {{ host: string, port: number }} server
 * @param {{ tests: string, args: string[] }} load e.g. `{ tests: 'set,incr,lpush', args: ['-P', '16', '-c', '16'] }`
 */
export function startRedisBenchmark(server, { tests, args }) {
  const argv = ['-h', server.host, '-p', String(server.port), '-t', tests, ...args, '-l', '-q'];
  const child = spawn('redis-benchmark', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2048)));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.once('error', (error) => (stderr += String(error)));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  own(child, kill);
  return {
    async stop() {
      const early = child.exitCode !== null;
      await releaseNow(kill);
      if (early) throw new Error(`bench: redis-benchmark exited early: ${stderr.trim()}`);
    },
  };
}

/**
 * One run of `redis-benchmark -t <test> -n <requests> <args> -q` against `server`; returns requests per second as
 * it reports them (its own clock, first request to last reply).
 */
export function redisBenchmarkRate(server, { test, requests, args }) {
  const argv = [
    '-h',
    server.host,
    '-p',
    String(server.port),
    '-t',
    test,
    '-n',
    String(requests),
    ...args,
    '-q',
  ];
  const result = spawnSync('redis-benchmark', argv, { encoding: 'utf8', timeout: 10 * 60_000 });
  // -q prints "SET: 123456.79 requests per second, p50=0.111 msec" (\r-separated progress before it).
  const rate = /:\s*([\d.]+) requests per second/.exec(result.stdout ?? '')?.[1];
  if (rate === undefined) {
    throw new Error(
      `bench: redis-benchmark ${argv.join(' ')} failed: ${(result.stderr || result.stdout || '').trim()}`,
    );
  }
  return Number(rate);
}
