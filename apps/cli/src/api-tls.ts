import { readFile } from 'node:fs/promises';
import type { ApiTlsOptions } from './api-client.js';
import { CliError, EXIT_USAGE } from './cli-error.js';

/** PEM file paths from `--api-ca`, `--api-cert` and `--api-key` (or SHARDBRIDGE_API_CA/_CERT/_KEY). */
export interface ApiTlsFiles {
  apiCa?: string;
  apiCert?: string;
  apiKey?: string;
}

/** Reads the PEM files named by the flags; a client certificate needs its key and the other way round. */
export async function readApiTls(files: ApiTlsFiles = {}): Promise<ApiTlsOptions> {
  if (Boolean(files.apiCert) !== Boolean(files.apiKey)) {
    throw new CliError(
      'give --api-cert and --api-key together (the client certificate and its key)',
      EXIT_USAGE,
    );
  }
  const read = async (flag: string, file: string | undefined): Promise<Buffer | undefined> => {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      throw new CliError(`cannot read ${flag} ${file}: ${(error as Error).message}`, EXIT_USAGE);
    }
  };
  return {
    ca: await read('--api-ca', files.apiCa),
    cert: await read('--api-cert', files.apiCert),
    key: await read('--api-key', files.apiKey),
  };
}
