import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * Throw-away PKI for TLS tests, made with the openssl command line: a CA, a server certificate it
 * signs, and client certificates (CN = identity) signed by it or by a second, untrusted CA.
 */

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'ignore' });
}

function makeCa(dir: string, name: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
}

function makeSigned(dir: string, name: string, cn: string, ca: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
}

export interface TestPki {
  dir: string;
  caPem: string;
  server: { certFile: string; keyFile: string };
  /** A client certificate and key for `identity`, from the trusted CA or the untrusted one. */
  client(identity: string, trusted?: boolean): { cert: string; key: string };
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'rogue-ca');
  makeSigned(dir, 'server', 'localhost', 'ca');
  let n = 0;
  return {
    dir,
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    server: { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') },
    client(identity, trusted = true) {
      const name = `client-${n++}`;
      makeSigned(dir, name, identity, trusted ? 'ca' : 'rogue-ca');
      return {
        cert: readFileSync(join(dir, `${name}.pem`), 'utf8'),
        key: readFileSync(join(dir, `${name}.key`), 'utf8'),
      };
    },
  };
}
