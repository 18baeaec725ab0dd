// The daemon's key file, DATADIR/key: the node's Ed25519 secret key in libsodium's format, 64
// raw bytes (the public key is its second half), mode 0600. Made once, with a new data dir;
// after that a missing, exposed or damaged key file stops the daemon with one sentence: a new
// key would silently make the data dir another node (its peers and pins would not know it).
import { openSync, writeSync, fsyncSync, closeSync, lstatSync, readFileSync, unlinkSync } from 'node:fs'
import { type KeyPair, generateKeyPair, keyPairOf, secretKeyProblem, SECRET_KEY_BYTES } from '../node/identity.js'

/** The key file's mode: the owner's alone. */
export const KEY_FILE_MODE = 0o600

const RESTORE = 'restore it from a backup (moving it aside gives this data dir a new identity)'

/** The key pair in the file at path, null when there is none; a sentence (Error) when it is unusable. */
export function readKeyFile (path: string): KeyPair | null {
  let st
  try {
    st = lstatSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new Error(`cannot read the key file ${path}: ${(err as Error).message}`)
  }
  if (st.isDirectory()) throw new Error(`the key file ${path} is a directory: move it aside, and put the node's key file there if you have it`)
  if (!st.isFile()) throw new Error(`the key file ${path} is not a regular file (a link or a device): put the node's key file there`)
  const mode = st.mode & 0o777
  if ((mode & 0o077) !== 0) throw new Error(`the key file ${path} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 ${path}`)
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    throw new Error(`cannot read the key file ${path}: ${e.code === 'EACCES' ? 'permission denied' : e.message}`)
  }
  if (bytes.length !== SECRET_KEY_BYTES) throw new Error(`the key file ${path} is ${bytes.length} bytes, not ${SECRET_KEY_BYTES} (an Ed25519 secret key): ${RESTORE}`)
  const why = secretKeyProblem(bytes)
  if (why !== null) throw new Error(`the key file ${path} is damaged (${why.replace(/ \(the key is damaged\)$/, '')}): ${RESTORE}`)
  return keyPairOf(bytes)
}

/** Make a new key pair and write it to path (which must not exist), mode 0600, synced. */
export function makeKeyFile (path: string): KeyPair {
  const keyPair = generateKeyPair()
  let fd: number
  try {
    fd = openSync(path, 'wx', KEY_FILE_MODE)
  } catch (err) {
    throw new Error(`cannot create the key file ${path}: ${(err as Error).message}`)
  }
  try {
    writeSync(fd, keyPair.secretKey)
    fsyncSync(fd)
  } catch (err) {
    closeSync(fd)
    try { unlinkSync(path) } catch {}
    throw new Error(`cannot write the key file ${path}: ${(err as Error).message}`)
  }
  closeSync(fd)
  return keyPair
}
