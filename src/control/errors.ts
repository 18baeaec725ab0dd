// System errors as sentences. Node's messages name errno codes ("EACCES: permission denied,
// mkdir '/x'", "connect ECONNREFUSED 127.0.0.1:9") and OpenSSL's internals
// ("error:0A00010B:SSL routines::wrong version number"): a user gets what they mean instead.
// Pure and tiny: the CLI client loads it.

const CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'it already exists',
  EISDIR: 'it is a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  ENAMETOOLONG: 'the path is too long',
  ELOOP: 'too many symbolic links in the path',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on this machine',
  EIO: 'an input/output error from the disk',
  EADDRINUSE: 'the address is already in use (another program listens on that port)',
  EADDRNOTAVAIL: 'that address does not belong to this machine',
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ECONNRESET: 'the connection was reset by the other side',
  ECONNABORTED: 'the connection was aborted',
  EPIPE: 'the other side closed the connection',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host cannot be reached',
  ENETUNREACH: 'the network cannot be reached',
  ENOTFOUND: 'the host name is not known',
  EAI_AGAIN: 'the host name could not be looked up (no answer from DNS)',
  EPROTO: 'a protocol error'
}

/** The sentence for an errno code, if we know it. */
export function describeCode (code: string | undefined): string | undefined {
  return code === undefined ? undefined : CODES[code]
}

/** An error's reason as a sentence: its errno code's meaning, else its message made humane. */
export function reason (err: unknown): string {
  const e = err as NodeJS.ErrnoException | null
  return describeCode(e?.code) ?? humanize(String(e?.message ?? err))
}

// "error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/record.c:354:",
// possibly behind "write EPROTO 40E7F8F7:" — OpenSSL's reason is the text after the function.
const OPENSSL = /(?:\b\w+ EPROTO )?(?:[0-9A-F]+:)?error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)(?::\S*)?/g
// "connect ECONNREFUSED 127.0.0.1:9", "listen EADDRINUSE: address already in use 127.0.0.1:80",
// "EACCES: permission denied, mkdir '/x'": syscall, code, libuv's text, the address or path.
const SYSCALL = /(?:\b(?:connect|listen|bind|read|write|getaddrinfo|accept|open|mkdir|rename|unlink|stat|lstat|scandir|access|chmod|spawn|uv_\w+) )?\b(E[A-Z][A-Z0-9_]+)\b(?::[a-z ]*[a-z])?(?:,? (?:\w+ )?'([^']*)')?(?: (\[?[0-9a-fA-F.:]+\]?:\d+|[\w.-]+\.[a-z]{2,}))?/g

// What an OpenSSL reason means to someone dialing a peer. "wrong version number" is the first
// bytes of the answer read as a TLS record: a plain (ws:// or tcp://) service answered.
const TLS_REASONS: Record<string, string> = {
  'wrong version number': ': the peer does not speak TLS (a ws:// or tcp:// service? dial it so)'
}

// OpenSSL's words when a wss peer's certificate chain leads to no CA this process trusts.
// The fix is the user's to make, so the sentence says where a private CA goes. Not inside that
// sentence itself: a message is humanized by the daemon and again by the CLI.
const UNTRUSTED = /(?<!trusts \()\b(unable to verify the first certificate|self[- ]signed certificate(?: in certificate chain)?|unable to get local issuer certificate|unable to get issuer certificate)\b/

/** Rewrite raw errno codes and OpenSSL strings inside a message as sentences; the rest stays. */
export function humanize (message: string): string {
  return message
    .replace(UNTRUSTED, (why: string) => `the peer's TLS certificate is not signed by a CA this daemon trusts (${why}); a private CA's certificate goes in NODE_EXTRA_CA_CERTS when the daemon starts`)
    .replace(OPENSSL, (_m, why: string) => `the TLS handshake failed${TLS_REASONS[why.trim()] ?? ` (${why.trim()})`}`)
    .replace(SYSCALL, (m, code: string, path: string | undefined) => {
      const sentence = CODES[code]
      if (sentence === undefined) return m
      // A path helps; an address does not (the message around it already names it).
      return path === undefined ? sentence : `${sentence} (${path})`
    })
}
