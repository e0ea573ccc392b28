/**
 * The listing page's script (runs in the browser, not in the server): it
 * enhances a working no-script listing. Compiled by `npm run page` into
 * `../file-manager-script.ts`, which the listing embeds inline and allows by
 * its hash in the page's Content-Security-Policy. No framework, no eval.
 *
 * Today: a filter box over the rows of the current page.
 */

function setUpFilter(): void {
  const table = document.querySelector('table');
  const rows = Array.from(document.querySelectorAll<HTMLTableRowElement>('tbody tr:not(.parent)'));
  if (table === null || rows.length === 0) return;
  const label = document.createElement('label');
  label.className = 'filter';
  label.textContent = 'Filter ';
  const input = document.createElement('input');
  input.type = 'search';
  input.placeholder = 'name contains…';
  input.addEventListener('input', () => {
    const needle = input.value.trim().toLowerCase();
    for (const r of rows) {
      const name = (r.querySelector('td.name a')?.textContent ?? '').toLowerCase();
      r.hidden = needle !== '' && !name.includes(needle);
    }
  });
  label.append(input);
  table.before(label);
}

setUpFilter();
