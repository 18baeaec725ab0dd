// A throwaway certificate authority and a certificate it signed for 127.0.0.1 and localhost,
// made with openssl in a temp dir the test removes: what wss tests serve and trust.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './helpers.js'

/** Resolves {dir, ca, cert, key}: paths of PEM files (key mode 0600, as openssl writes it). */
export function makeCertificates (t) {
  const dir = tempDir(t)
  const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=peernet test CA')
  ssl('req', ...ec, '-keyout', 'key.pem', '-out', 'req.csr', '-subj', '/CN=127.0.0.1')
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  ssl('x509', '-req', '-in', 'req.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'cert.pem', '-days', '2', '-extfile', 'ext.cnf')
  // A second key, which belongs to no certificate here.
  ssl('genpkey', '-algorithm', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'other.key')
  return { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), otherKey: join(dir, 'other.key') }
}
