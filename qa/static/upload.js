// Upload from the page (js_on_load of the upload's status). Gradio's drop area reads only the files of a drop, so a
// folder dropped on it is walked here; and a folder chosen with "Choose a folder" comes with its hidden files. In
// both, the files (hidden ones left out, as `qa add` leaves them) are handed to the file input as if chosen.
function entries(folder) {
  const reader = folder.createReader(), all = [];
  return new Promise((resolve, reject) => {
    const next = () => reader.readEntries((batch) => {
      if (!batch.length) return resolve(all);
      all.push(...batch);
      next();
    }, reject);
    next();
  });
}
async function walk(entry, files) {
  if (entry.name.startsWith('.')) return;
  if (entry.isFile) files.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
  else if (entry.isDirectory) for (const inner of await entries(entry)) await walk(inner, files);
}
function choose(input, files) {
  const transfer = new DataTransfer();
  files.forEach((file) => transfer.items.add(file));
  input.files = transfer.files;
  input.dispatchEvent(new Event('change', {bubbles: true}));
}
const hidden = (file) => (file.webkitRelativePath || '').split('/').some((part) => part.startsWith('.'));
if (!window.qaUploadFolders) {  // once per page, on the document: the upload's components may render after this
  window.qaUploadFolders = true;
  document.addEventListener('drop', async (event) => {
    const zone = event.target instanceof Element && event.target.closest('#upload-drop');
    if (!zone) return;
    // The entries are read now: the drop's data is gone once the handler awaits.
    const dropped = [...(event.dataTransfer?.items || [])].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
    if (!dropped.some((entry) => entry.isDirectory)) return;  // files only: Gradio's own drop takes them
    event.preventDefault();
    event.stopPropagation();
    zone.querySelectorAll('.upload-container').forEach((box) => box.dispatchEvent(new DragEvent('dragleave')));
    const files = [];
    for (const entry of dropped) await walk(entry, files);
    const input = zone.querySelector('input[type=file]');
    if (input && files.length) choose(input, files);
  }, true);
  document.addEventListener('change', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file' || ![...(input.files || [])].some(hidden)) return;
    event.stopImmediatePropagation();
    choose(input, [...input.files].filter((file) => !hidden(file)));
  }, true);
}
