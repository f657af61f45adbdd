#!/usr/bin/env node
// `npm run bench:gateway`: the gateway against its floor (main.ts), or with `--wire` the remote
// cloud tier's wire, JSON against binary tensor data (remote-main.ts). Each reads its own flags.
export {};

const wire = process.argv.indexOf('--wire');
if (wire >= 0) {
  process.argv.splice(wire, 1);
  await import('./remote-main.ts');
} else {
  await import('./main.ts');
}
