/**
 * The file manager's CSS: the toolbar, the per-row actions, the uploads
 * panel with its `<progress>` bars and the dialogs that the page's script
 * (`browser/file-manager.ts`) builds. `script.ts` re-exports it and the
 * listing appends it to its inline stylesheet (allowed by hash in the
 * page's CSP), so the script needs no `<style>` element and no `style=`
 * attribute. At phone width the row buttons show a glyph (their accessible
 * names stay "Rename or move NAME", "Delete NAME"). It uses the listing's
 * colour variables (`--fg`, `--muted`, `--line`, `--link`, `--bg`,
 * `--hover`), so it follows light and dark mode.
 */

/** CSS text, to append to the listing page's `<style>` where the script is included. */
export const FILE_MANAGER_STYLE = `
#file-manager{display:flex;flex-wrap:wrap;align-items:center;gap:8px 12px;margin:0 0 12px}
#file-manager label{display:flex;align-items:center;gap:6px;color:var(--muted);font-size:.9rem}
#file-manager input[type=search],.fm-dialog input[type=text]{font:inherit;color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:4px 8px;min-width:0}
#file-manager input[type=search]{width:11em}
#file-manager button,.fm-uploads button,.fm-dialog button,td.actions button{font:inherit;font-size:.9rem;color:var(--fg);background:var(--hover);border:1px solid var(--line);border-radius:6px;padding:4px 12px;cursor:pointer}
#file-manager button:hover,.fm-uploads button:hover,.fm-dialog button:hover,td.actions button:hover{border-color:var(--muted)}
button:focus-visible,input:focus-visible{outline:2px solid var(--link);outline-offset:1px}
.fm-hint{color:var(--muted);font-size:.85rem}
.fm-status{margin:0 0 8px;color:var(--muted);overflow-wrap:anywhere}
.fm-status:empty{display:none}
.fm-error{color:#b3261e}
.fm-uploads{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:0 0 12px}
.fm-uploads h2{font-size:1rem;margin:0 0 6px;overflow-wrap:anywhere}
.fm-uploads ul{list-style:none;margin:0 0 8px;padding:0}
.fm-uploads li{display:grid;grid-template-columns:1fr auto;align-items:center;gap:2px 8px;padding:6px 0;border-top:1px solid var(--line)}
.fm-uploads progress{grid-column:1/-1;width:100%}
.fm-total{display:grid;gap:2px;margin:0 0 6px}
.fm-total progress{width:100%}
.fm-name{overflow-wrap:anywhere}
.fm-info{grid-column:1/-1;color:var(--muted);font-size:.85rem;font-variant-numeric:tabular-nums}
.fm-uploads li[data-state=failed] .fm-info{color:#b3261e}
th.actions,td.actions{white-space:nowrap;text-align:right;width:1%}
td.actions button{font-size:.8rem;padding:2px 8px;margin-left:4px}
.fm-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.fm-dialog{color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:10px;padding:16px 20px;width:min(30rem,calc(100vw - 24px))}
.fm-dialog::backdrop{background:rgba(0,0,0,.45)}
.fm-dialog h2{font-size:1.1rem;margin:0 0 12px;overflow-wrap:anywhere}
.fm-dialog p{overflow-wrap:anywhere}
.fm-dialog label{display:grid;gap:6px}
.fm-dialog label:has(input[type=checkbox]){display:flex;align-items:center}
.fm-dialog img,.fm-dialog svg{display:block;max-width:100%;height:auto;margin:0 auto}
.fm-buttons{display:flex;flex-wrap:wrap;justify-content:flex-end;gap:8px;margin:16px 0 0}
body.fm-drop main{outline:3px dashed var(--link);outline-offset:-4px}
@media (prefers-color-scheme:dark){.fm-error,.fm-uploads li[data-state=failed] .fm-info{color:#f2b8b5}}
@media (max-width:560px){td.actions button{display:block;margin:0 0 6px auto;padding:2px 0;width:2.2rem;font-size:0}td.actions .fm-rename::before{content:"✎";font-size:1rem}td.actions .fm-delete::before{content:"✕";font-size:1rem}#file-manager input[type=search]{width:8.5em}.fm-hint{display:none}}
`;
