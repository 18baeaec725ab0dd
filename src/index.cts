// The CommonJS entry, for require('peernet'): the seed's API is a callable module,
// require('peernet')(db, opts). It is the ESM entry (loaded through require(esm), so both share
// one module instance and instanceof agrees) with its named exports as properties of the call.
import lib = require('./index.js')

function peernet (...args: Parameters<typeof lib.peernet>): ReturnType<typeof lib.peernet> {
  return lib.peernet(...args)
}

export = Object.assign(peernet, lib)
