/**
 * The listing page's script (runs in the browser, not in the server): it
 * enhances a working no-script listing into a file manager. Compiled by
 * `npm run page` into `../file-manager-script.ts`, which the listing embeds
 * inline (only where writes are allowed) and allows by its hash in the
 * page's Content-Security-Policy. No framework, no eval, no HTML strings:
 * every name reaches the page through `textContent`.
 *
 * Every operation is an HTTP request a person could send with curl:
 * - upload: `PUT <folder>/<name>` per file (XMLHttpRequest, for progress),
 *   `If-None-Match: *` for a new name, `If-Match: <etag>` to replace the
 *   version the person agreed to replace (RFC 9110 §13.1.1-2);
 * - new folder: `MKCOL`; rename/move: `MOVE` with `Overwrite: F`; delete:
 *   `DELETE` (`Depth: infinity` for a folder) (RFC 4918 §9.3, §9.9, §9.6);
 * - the rows: `GET <folder>/?json`.
 * Sorting and search are the listing's own links and form (no script).
 */

interface Entry {
  readonly name: string;
  readonly type: 'file' | 'directory';
  readonly size: number | null;
  /** ISO 8601. */
  readonly mtime: string;
  readonly etag: string | null;
}

/** A file to upload and its path below the current folder (`sub/x.txt`). */
interface Picked {
  readonly file: File;
  readonly rel: string;
}

/** One upload in the panel. */
interface Job extends Picked {
  readonly url: string;
  readonly headers: Record<string, string>;
  /** Whether it replaces an existing file (for the wording of a 412). */
  readonly replaces: boolean;
  readonly li: HTMLLIElement;
  readonly bar: HTMLProgressElement;
  readonly info: HTMLElement;
  readonly cancel: HTMLButtonElement;
  state: 'queued' | 'sending' | 'done' | 'failed' | 'cancelled';
  /** Bytes sent so far. */
  loaded: number;
  /** Bytes per second over the last few seconds. */
  speed: number;
  /** [ms, bytes sent] samples of the last few seconds. */
  samples: [number, number][];
  xhr?: XMLHttpRequest;
}

/** The folder's URL path, percent-encoded, ending in `/` (e.g. `/files/a%20b/`). */
const HERE = document.body.dataset.path ?? location.pathname;
const PARALLEL = 3;
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** A new element with properties and children (strings become text nodes). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...kids);
  return e;
}

function button(text: string, onClick: () => void, label?: string): HTMLButtonElement {
  const b = el('button', { type: 'button', textContent: text });
  if (label !== undefined) b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

/** `sub/x y.txt` → `sub/x%20y.txt`: each segment percent-encoded. */
const enc = (rel: string): string => rel.split('/').map(encodeURIComponent).join('/');

/** `1536` → `"1.5 KiB"`, as the server writes sizes. */
function formatSize(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

function formatSeconds(s: number): string {
  if (!isFinite(s)) return '…';
  s = Math.ceil(s);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// ---------------------------------------------------------------------------
// Messages and dialogs

const statusLine = el('p', { className: 'fm-status' });
statusLine.setAttribute('role', 'status');

/** Shows a one-line message (an error in the error colour). */
function say(text: string, error = false): void {
  statusLine.textContent = text;
  statusLine.classList.toggle('fm-error', error);
}

/** What a refusal means to a person, by status code. */
const REFUSALS: Record<number, string> = {
  401: 'you need to sign in (reload the page to be asked)',
  403: 'not allowed',
  413: 'too large for this server',
  507: "the server's disk is full",
};

/** Why a request failed, in words: the status, and the server's explanation when it sent text. */
function because(status: number, statusText: string, type: string, body: string, what: Record<number, string> = {}): string {
  const text = type.startsWith('text/plain') ? body.trim().slice(0, 200) : '';
  return `${what[status] ?? REFUSALS[status] ?? `the server answered ${status} ${statusText}`}${text ? ` (${text})` : ''}`;
}

async function why(r: Response, what: Record<number, string> = {}): Promise<string> {
  return because(r.status, r.statusText, r.headers.get('content-type') ?? '', await r.text(), what);
}

/**
 * A modal `<dialog>` (focus moves in, Escape closes, focus returns).
 * @param focus the element to focus first, or the index of a choice (the first by default).
 * @returns the label of the button chosen, or `''` for Escape or "Cancel".
 */
function ask(title: string, parts: (Node | string)[], choices: string[], focus: HTMLElement | number = 0): Promise<string> {
  return new Promise((resolve) => {
    const back = document.activeElement as HTMLElement | null;
    const row = el('p', { className: 'fm-buttons' });
    for (const c of choices) row.append(el('button', { type: 'submit', value: c, textContent: c }));
    const form = el('form', {}, el('h2', { textContent: title }), ...parts, row);
    const d = el('dialog', { className: 'fm-dialog' }, form);
    let answer = '';
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      answer = ((ev as SubmitEvent).submitter as HTMLButtonElement | null)?.value ?? choices[0]!;
      d.close();
    });
    d.addEventListener('close', () => {
      d.remove();
      back?.focus();
      resolve(answer === 'Cancel' ? '' : answer);
    });
    document.body.append(d);
    d.showModal();
    (typeof focus === 'number' ? (row.children[focus] as HTMLElement) : focus).focus();
  });
}

/** Asks for a name in a dialog. @returns the name typed, or `''` when cancelled. */
async function askName(title: string, labelText: string, value: string, ok: string): Promise<string> {
  const input = el('input', { type: 'text', value, required: true, autocomplete: 'off' });
  const answered = ask(title, [el('label', {}, labelText, input)], [ok, 'Cancel'], input);
  // Select the name without its extension, as file managers do.
  input.setSelectionRange(0, value.lastIndexOf('.') > 0 ? value.lastIndexOf('.') : value.length);
  return (await answered) === ok ? input.value.trim() : '';
}

// ---------------------------------------------------------------------------
// Rows

const tbody = document.querySelector('tbody');
const params = new URLSearchParams(location.search);
const sortKey = params.get('sort') ?? 'name';
const descending = params.get('order') === 'desc';

const rowsNow = (): HTMLTableRowElement[] => Array.from(document.querySelectorAll<HTMLTableRowElement>('tbody tr:not(.parent)'));

/** A row's name as on disk. */
function nameOf(tr: HTMLTableRowElement): string {
  return tr.dataset.name ?? decodeURIComponent(tr.querySelector('td.name a')?.getAttribute('href') ?? '').replace(/\/$/, '');
}
const isFolder = (tr: HTMLTableRowElement): boolean => (tr.dataset.type ?? (tr.classList.contains('dir') ? 'directory' : 'file')) === 'directory';
const urlOf = (tr: HTMLTableRowElement): string => HERE + encodeURIComponent(nameOf(tr)) + (isFolder(tr) ? '/' : '');

/** The listing's order, as the server sorts: folders first, then by the sort key (ties by name ascending). */
function compare(a: HTMLTableRowElement, b: HTMLTableRowElement): number {
  if (isFolder(a) !== isFolder(b)) return isFolder(a) ? -1 : 1;
  const sign = descending ? -1 : 1;
  const byName = collator.compare(nameOf(a), nameOf(b));
  if (sortKey !== 'size' && sortKey !== 'mtime') return byName * sign;
  return (Number(a.dataset[sortKey] || 0) - Number(b.dataset[sortKey] || 0)) * sign || byName;
}

/** A row in the listing's markup (`tr.dir|file[data-*]`, `td.name a`, `td.size`, `td.mtime time`). */
function rowFor(e: Entry): HTMLTableRowElement {
  const dir = e.type === 'directory';
  const ms = Date.parse(e.mtime);
  const iso = new Date(ms).toISOString();
  const tr = el(
    'tr',
    { className: dir ? 'dir' : 'file' },
    el('td', { className: 'name' }, el('a', { href: encodeURIComponent(e.name) + (dir ? '/' : ''), textContent: e.name + (dir ? '/' : '') })),
    el('td', { className: 'size' }, dir ? '—' : el('span', { title: `${e.size} bytes`, textContent: formatSize(e.size ?? 0) })),
    el('td', { className: 'mtime' }, el('time', { dateTime: iso }, iso.slice(0, 10), el('span', { className: 'time', textContent: ` ${iso.slice(11, 16)}` }))),
  );
  Object.assign(tr.dataset, { name: e.name, type: e.type, size: dir ? '' : String(e.size), mtime: String(ms) });
  addActions(tr);
  return tr;
}

/** Rename and Delete buttons in a new last cell. */
function addActions(tr: HTMLTableRowElement): void {
  const td = el('td', { className: 'actions' });
  if (!tr.classList.contains('parent')) {
    const name = nameOf(tr);
    const edit = button('Rename', () => void rename(tr), `Rename or move ${name}`);
    const del = button('Delete', () => void remove(tr), `Delete ${name}`);
    edit.className = 'fm-rename';
    del.className = 'fm-delete';
    td.append(edit, del);
  }
  tr.append(td);
}

/** GETs a folder's JSON listing. @returns null when the folder does not exist. */
async function listing(url: string): Promise<Entry[] | null> {
  const r = await fetch(`${url}?json`, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`could not list ${decodeURIComponent(url)}: ${await why(r)}`);
  return ((await r.json()) as { entries: Entry[] }).entries;
}

let refreshing: Promise<void> = Promise.resolve();
const touched = new Set<string>();

/**
 * Brings the rows up to date with the folder (one `?json`): changed rows are
 * redrawn, gone ones removed, new ones inserted in order. On a paged listing
 * only names this page wrote are inserted (others belong to other pages).
 * @param names names in this folder that the page just wrote.
 */
function refresh(...names: string[]): Promise<void> {
  for (const n of names) touched.add(n);
  refreshing = refreshing.then(async () => {
    if (touched.size === 0 && names.length > 0) return;
    const only = new Set(touched);
    touched.clear();
    try {
      const entries = (await listing(HERE)) ?? [];
      const paged = document.querySelector('nav.pages') !== null;
      const byName = new Map(entries.map((e) => [e.name, e]));
      // data-mtime is rounded, the JSON time truncated: they may differ by 1 ms.
      for (const tr of rowsNow()) {
        const e = byName.get(nameOf(tr));
        byName.delete(nameOf(tr));
        if (e === undefined) tr.remove();
        else if (e.type !== (isFolder(tr) ? 'directory' : 'file') || (e.type === 'file' && (tr.dataset.size !== String(e.size) || Math.abs(Number(tr.dataset.mtime) - Date.parse(e.mtime)) > 1))) {
          tr.replaceWith(rowFor(e));
        }
      }
      for (const e of byName.values()) {
        if (paged && !only.has(e.name)) continue;
        const tr = rowFor(e);
        const before = rowsNow().find((r) => compare(tr, r) < 0);
        if (before) before.before(tr);
        else tbody?.append(tr);
      }
      const footer = document.querySelector('footer');
      if (!paged && footer && /^[\d,]+ folders?, [\d,]+ files?$/.test(footer.textContent ?? '')) {
        const folders = entries.filter((e) => e.type === 'directory').length;
        const files = entries.length - folders;
        footer.textContent = `${folders.toLocaleString('en')} folder${folders === 1 ? '' : 's'}, ${files.toLocaleString('en')} file${files === 1 ? '' : 's'}`;
      }
      filter();
    } catch (err) {
      say(String((err as Error).message ?? err), true);
    }
  });
  return refreshing;
}

// ---------------------------------------------------------------------------
// Folders, rename, delete

async function newFolder(): Promise<void> {
  const name = await askName('New folder', 'Name ', '', 'Create');
  if (!name) return;
  const r = await fetch(`${HERE}${enc(name)}/`, { method: 'MKCOL' });
  if (r.status === 201) {
    say(`Created the folder “${name}”.`);
    await refresh(name.split('/')[0]!);
  } else say(`Could not create “${name}”: ${await why(r, { 405: 'something by that name exists', 409: 'its parent folder does not exist' })}.`, true);
}

async function rename(tr: HTMLTableRowElement): Promise<void> {
  const name = nameOf(tr);
  const to = await askName(`Rename or move “${name}”`, 'New name, or a path (../elsewhere/name, /files/…) ', name, 'Rename');
  if (!to || to === name) return;
  const dest = new URL(enc(to) + (isFolder(tr) ? '/' : ''), location.origin + HERE);
  const r = await fetch(urlOf(tr), { method: 'MOVE', headers: { Destination: dest.href, Overwrite: 'F' } });
  if (r.ok) {
    say(`Moved “${name}” to “${decodeURIComponent(dest.pathname)}”.`);
    await refresh(name, ...(dest.pathname.startsWith(HERE) ? [decodeURIComponent(dest.pathname.slice(HERE.length).split('/')[0]!)] : []));
  } else say(`Could not move “${name}”: ${await why(r, { 412: `“${to}” already exists (not replaced)`, 409: 'the destination folder does not exist' })}.`, true);
}

async function remove(tr: HTMLTableRowElement): Promise<void> {
  const name = nameOf(tr);
  let text = `Delete the file “${name}”?`;
  if (isFolder(tr)) {
    const n = (await listing(urlOf(tr)).catch(() => null))?.length ?? 0;
    text = n === 0 ? `Delete the empty folder “${name}”?` : `Delete the folder “${name}” and everything in it (${n} item${n === 1 ? '' : 's'} at its top level)?`;
  }
  // Focus on Cancel: Enter alone deletes nothing.
  if ((await ask('Delete', [el('p', { textContent: text })], ['Delete', 'Cancel'], 1)) !== 'Delete') return;
  const r = await fetch(urlOf(tr), { method: 'DELETE', headers: isFolder(tr) ? { Depth: 'infinity' } : {} });
  if (r.ok) {
    say(`Deleted “${name}”.`);
    await refresh(name);
  } else say(`Could not delete “${name}”: ${await why(r)}.`, true);
}

// ---------------------------------------------------------------------------
// Uploads

const panel = el('section', { className: 'fm-uploads', hidden: true });
const totalBar = el('progress', { value: 0, max: 1 });
const totalInfo = el('span', { className: 'fm-info' });
const list = el('ul');
const jobs: Job[] = [];
panel.append(
  el('h2', { textContent: 'Uploads' }),
  el('div', { className: 'fm-total' }, totalBar, totalInfo),
  list,
  button('Clear finished', () => {
    for (const j of jobs.splice(0)) if (j.state === 'queued' || j.state === 'sending') jobs.push(j);
    else j.li.remove();
    panel.hidden = jobs.length === 0;
  }),
);

/** Asks before replacing anything, then queues the files. */
async function upload(picked: Picked[]): Promise<void> {
  if (picked.length === 0) return;
  // Lists each target folder once, and only when its parent lists it (no 404 probes).
  const folders = new Map<string, Promise<Entry[] | null>>();
  const folderList = (dir: string): Promise<Entry[] | null> => {
    let p = folders.get(dir);
    if (p === undefined) {
      const parent = dir.slice(0, dir.lastIndexOf('/', dir.length - 2) + 1);
      const base = dir.slice(parent.length, -1);
      p = dir === '' ? listing(HERE) : folderList(parent).then((es) => (es?.some((e) => e.name === base && e.type === 'directory') ? listing(HERE + enc(dir)) : null));
      folders.set(dir, p);
    }
    return p;
  };
  const existing: (Entry | undefined)[] = [];
  try {
    for (const p of picked) {
      const dir = p.rel.slice(0, p.rel.lastIndexOf('/') + 1);
      existing.push((await folderList(dir))?.find((e) => e.name === p.rel.slice(dir.length)));
    }
  } catch (err) {
    say(String((err as Error).message), true);
    return;
  }
  let always = '';
  let conflicts = existing.filter((e) => e !== undefined).length;
  const queue: Job[] = [];
  for (const [i, p] of picked.entries()) {
    const e = existing[i];
    if (e?.type === 'directory') {
      say(`“${p.rel}” is a folder here: that file was not uploaded.`, true);
      continue;
    }
    let choice = e ? always : 'Create';
    if (e && !choice) {
      const all = el('input', { type: 'checkbox' });
      const parts: (Node | string)[] = [el('p', { textContent: `“${p.rel}” already exists (${formatSize(e.size ?? 0)}, modified ${new Date(e.mtime).toLocaleString()}). Replace it with the one you chose (${formatSize(p.file.size)})?` })];
      if (conflicts > 1) parts.push(el('label', {}, all, ` Do the same for the other ${conflicts - 1} existing files`));
      choice = await ask('Replace file?', parts, ['Replace', 'Skip', 'Cancel']);
      if (!choice) {
        say('Upload cancelled: nothing was sent.');
        return;
      }
      if (all.checked) always = choice;
    }
    if (e) conflicts--;
    if (choice === 'Skip') continue;
    const headers: Record<string, string> = e ? (e.etag ? { 'If-Match': e.etag } : {}) : { 'If-None-Match': '*' };
    queue.push(makeJob(p, headers, e !== undefined));
  }
  jobs.push(...queue);
  panel.hidden = jobs.length === 0;
  pump();
}

function makeJob(p: Picked, headers: Record<string, string>, replaces: boolean): Job {
  const bar = el('progress', { value: 0, max: p.file.size || 1 });
  const info = el('span', { className: 'fm-info', textContent: 'waiting' });
  const li = el('li', {}, el('span', { className: 'fm-name', textContent: p.rel }));
  li.dataset.name = p.rel;
  li.dataset.state = 'queued';
  const job: Job = { ...p, url: HERE + enc(p.rel), headers, replaces, li, bar, info, cancel: button('Cancel', () => cancel(job), `Cancel ${p.rel}`), state: 'queued', loaded: 0, speed: 0, samples: [] };
  li.append(job.cancel, bar, info);
  list.append(li);
  return job;
}

function cancel(job: Job): void {
  if (job.state === 'sending') job.xhr?.abort();
  else if (job.state === 'queued') finish(job, 'cancelled', 'cancelled');
}

function finish(job: Job, state: Job['state'], text: string): void {
  job.state = state;
  job.li.dataset.state = state;
  job.info.textContent = text;
  job.cancel.remove();
  if (state === 'done') job.bar.value = job.bar.max;
  total();
}

/** Starts queued uploads, {@link PARALLEL} at a time. */
function pump(): void {
  let sending = jobs.filter((j) => j.state === 'sending').length;
  for (const job of jobs) {
    if (sending >= PARALLEL) break;
    if (job.state !== 'queued') continue;
    sending++;
    send(job);
  }
  total();
}

function send(job: Job): void {
  const x = new XMLHttpRequest();
  job.xhr = x;
  job.state = 'sending';
  job.li.dataset.state = 'sending';
  job.samples = [[performance.now(), 0]];
  x.open('PUT', job.url);
  for (const [k, v] of Object.entries(job.headers)) x.setRequestHeader(k, v);
  x.upload.addEventListener('progress', (ev) => progress(job, ev.loaded));
  x.addEventListener('load', () => {
    if (x.status >= 200 && x.status < 300) finish(job, 'done', `done, ${formatSize(job.file.size)}`);
    else {
      const text = x.status === 412 ? (job.replaces ? 'not replaced: the file changed on the server since you chose to replace it' : 'not uploaded: a file by that name appeared on the server meanwhile')
        : `failed: ${because(x.status, x.statusText, x.getResponseHeader('content-type') ?? '', x.responseText)}`;
      finish(job, 'failed', text);
      say(`“${job.rel}” ${text}.`, true);
    }
  });
  x.addEventListener('error', () => finish(job, 'failed', 'failed: the connection broke'));
  x.addEventListener('abort', () => finish(job, 'cancelled', 'cancelled'));
  x.addEventListener('loadend', () => {
    pump();
    void refresh(job.rel.split('/')[0]!);
  });
  x.send(job.file);
}

/** Records `loaded` bytes sent and shows the job's speed and time left. */
function progress(job: Job, loaded: number): void {
  const now = performance.now();
  job.loaded = loaded;
  job.samples.push([now, loaded]);
  while (job.samples.length > 2 && now - job.samples[0]![0] > 3000) job.samples.shift();
  const [t0, b0] = job.samples[0]!;
  job.speed = now > t0 ? ((loaded - b0) * 1000) / (now - t0) : 0;
  job.bar.value = loaded;
  const size = job.file.size;
  job.info.textContent = `${formatSize(loaded)} of ${formatSize(size)} · ${formatSize(job.speed)}/s · ${formatSeconds((size - loaded) / job.speed)} left`;
  total();
}

/** The total line: files done, bytes, speed and time left over the uploads not cancelled. */
function total(): void {
  let size = 0;
  let loaded = 0;
  let speed = 0;
  let done = 0;
  let counted = 0;
  for (const j of jobs) {
    if (j.state === 'cancelled' || j.state === 'failed') continue;
    counted++;
    size += j.file.size;
    loaded += j.state === 'done' ? j.file.size : j.loaded;
    if (j.state === 'sending') speed += j.speed;
    if (j.state === 'done') done++;
  }
  totalBar.max = size || 1;
  totalBar.value = done === counted ? totalBar.max : loaded;
  const failed = jobs.filter((j) => j.state === 'failed').length;
  totalInfo.textContent =
    `Total: ${done} of ${counted} file${counted === 1 ? '' : 's'} · ${formatSize(loaded)} of ${formatSize(size)}` +
    (done < counted && speed > 0 ? ` · ${formatSize(speed)}/s · ${formatSeconds((size - loaded) / speed)} left` : '') +
    (failed ? ` · ${failed} failed` : '');
}

/** Every file under a dropped entry, with its path (folders walked). */
async function walk(entry: FileSystemEntry, prefix: string, out: Picked[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, rel: prefix + entry.name });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      // readEntries answers in batches (of 100 in Chromium) until an empty one.
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, `${prefix}${entry.name}/`, out);
    }
  }
}

async function dropped(dt: DataTransfer): Promise<void> {
  const picked: Picked[] = [];
  const entries = Array.from(dt.items, (i) => (i.kind === 'file' ? [i.webkitGetAsEntry(), i.getAsFile()] as const : null));
  try {
    for (const pair of entries) {
      if (pair === null) continue;
      const [entry, file] = pair;
      if (entry) await walk(entry, '', picked);
      else if (file) picked.push({ file, rel: file.name });
    }
  } catch (err) {
    say(`Could not read what was dropped: ${(err as Error).message}`, true);
    return;
  }
  await upload(picked);
}

// ---------------------------------------------------------------------------
// Filter, toolbar, QR code

let needle = '';
function filter(): void {
  for (const r of rowsNow()) r.hidden = needle !== '' && !nameOf(r).toLowerCase().includes(needle);
}

function buildToolbar(): void {
  let bar = document.getElementById('file-manager');
  if (bar === null) {
    bar = el('div', { id: 'file-manager' });
    document.querySelector('table')?.before(bar);
  }
  const files = el('input', { type: 'file', multiple: true, hidden: true });
  const folder = el('input', { type: 'file', multiple: true, hidden: true, webkitdirectory: true });
  files.setAttribute('aria-label', 'Files to upload');
  folder.setAttribute('aria-label', 'Folder to upload');
  for (const input of [files, folder]) {
    input.addEventListener('change', () => {
      const picked = Array.from(input.files ?? [], (file) => ({ file, rel: file.webkitRelativePath || file.name }));
      input.value = '';
      void upload(picked);
    });
  }
  const filterBox = el('input', { type: 'search', placeholder: 'name contains…' });
  filterBox.addEventListener('input', () => {
    needle = filterBox.value.trim().toLowerCase();
    filter();
  });
  bar.append(
    button('Upload files', () => files.click()),
    button('Upload folder', () => folder.click()),
    button('New folder', () => void newFolder().catch((err: Error) => say(err.message, true))),
    files,
    folder,
    el('span', { className: 'fm-hint', textContent: 'or drop files and folders on the page' }),
    el('label', { className: 'filter' }, 'Filter ', filterBox),
  );
  const qr = document.querySelector<HTMLDetailsElement>('details.qr');
  if (qr !== null) {
    qr.hidden = true;
    bar.append(button('QR code', () => void ask('QR code', Array.from(qr.childNodes, (n) => n.cloneNode(true)).filter((n) => n.nodeName !== 'SUMMARY'), ['Close'])));
  }
  bar.after(statusLine, panel);
}

function dragging(ev: DragEvent): boolean {
  return ev.dataTransfer?.types.includes('Files') ?? false;
}

if (tbody !== null) {
  buildToolbar();
  const head = document.querySelector('thead tr');
  head?.append(el('th', { className: 'actions' }, el('span', { className: 'fm-sr', textContent: 'Actions' })));
  for (const tr of Array.from(tbody.rows)) addActions(tr);
  document.addEventListener('dragover', (ev) => {
    if (!dragging(ev)) return;
    ev.preventDefault();
    document.body.classList.add('fm-drop');
  });
  document.addEventListener('dragleave', (ev) => {
    if (ev.relatedTarget === null) document.body.classList.remove('fm-drop');
  });
  document.addEventListener('drop', (ev) => {
    document.body.classList.remove('fm-drop');
    if (!ev.dataTransfer || !dragging(ev)) return;
    ev.preventDefault();
    void dropped(ev.dataTransfer);
  });
}
