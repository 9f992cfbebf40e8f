// Runs the script named by process.argv[1] as a notebook cell: as a CommonJS main module (the
// same require, module, __filename, require.main), and prints the completion value of its last
// statement with util.inspect, as the REPL does, unless it is undefined, a promise or an event
// emitter (what a chained `socket.on(...)` returns). Code that is not a plain script (a
// top-level return) runs as the main module, unchanged.
{
  const f = process.argv[1], M = require('module'), path = require('path');
  const i = process.execArgv.indexOf('-e');
  if (i >= 0) process.execArgv.splice(i, 2);
  let s = null;
  try {
    s = new (require('vm').Script)(require('fs').readFileSync(f, 'utf8'), { filename: f });
  } catch (e) {}
  if (s === null) M.runMain(f);
  else {
    const m = new M(f, null), r = M.createRequire(f);
    m.filename = f;
    m.paths = M._nodeModulePaths(path.dirname(f));
    m.require = r;
    process.mainModule = r.main = m;
    Object.assign(globalThis, { module: m, exports: m.exports, require: r, __filename: f, __dirname: path.dirname(f) });
    const v = s.runInThisContext();
    if (v !== undefined && !(v instanceof Promise) && !(v instanceof require('events'))) {
      console.log(require('util').inspect(v));
    }
  }
}
