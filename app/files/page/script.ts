/**
 * The listing page's script, as text to embed inline, and the CSP source
 * expression that allows exactly it (`script-src 'sha256-…'`, CSP Level 3
 * §8.4). The text is generated from `browser/file-manager.ts` by
 * `npm run page`; a test fails when it is stale.
 */

import { createHash } from 'node:crypto';
import { FILE_MANAGER_JS } from './file-manager-script.js';

/** The CSS the script's toolbar, uploads panel, row actions and dialogs need, appended to the listing's inline style. */
export { FILE_MANAGER_STYLE } from './style.js';

/** The script's JavaScript source, UTF-8 text, to place between `<script>` and `</script>`. */
export const FILE_MANAGER_SCRIPT: string = FILE_MANAGER_JS;

/** `'sha256-<base64>'`: the hash source of {@link FILE_MANAGER_SCRIPT} for a `script-src` directive. */
export const FILE_MANAGER_SCRIPT_HASH = `'sha256-${createHash('sha256').update(FILE_MANAGER_SCRIPT, 'utf8').digest('base64')}'`;
