// The listing page's script is compiled from its TypeScript source
// (app/files/page/browser/) into a generated module that Node and Bun both
// import: the committed module must be what `npm run page` makes now, or
// the page would run code that its source no longer says.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../helpers/server';

test('app/files/page/file-manager-script.ts is the compiled browser source (else run npm run page)', () => {
  expect(() => execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-page.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
});
