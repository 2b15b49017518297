// The conversation, the search results and the collection (js_on_load of their gr.HTML): copy buttons put their
// data-copy text on the clipboard; "Open in source viewer" asks the server for the passage's article (a `select`
// event carrying the passage id); Star, Remove and More quotes send their data-key the same way. After each answer
// the newest question is scrolled to the top of the conversation, so it shows with the start of its answer.
const status = element.querySelector('[role=status]');
async function copy(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = document.createElement('textarea');  // plain http on another host: no Clipboard API
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}
element.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-copy], button[data-open], button[data-key]');
  if (!button) return;
  if (button.dataset.key !== undefined) {
    if (button.dataset.key.startsWith('star:')) button.textContent = 'Starred';
    status.textContent = button.getAttribute('aria-label');
    trigger('select', {key: button.dataset.key});
    return;
  }
  if (button.dataset.copy !== undefined) {
    await copy(button.dataset.copy);
    const label = button.textContent;
    button.textContent = 'Copied';
    status.textContent = button.getAttribute('aria-label').replace(/^Copy/, 'Copied');
    setTimeout(() => { button.textContent = label; }, 1500);
    return;
  }
  window.qaOpenedFrom = button;
  document.getElementById('workspace')?.classList.toggle('reading-source', matchMedia('(max-width: 720px)').matches);
  window.qaShowSource?.();  // the passage shown now (when it is the one asked for, its value will not change)
  trigger('select', {key: button.dataset.open});
});
watch('value', () => {
  const log = element.querySelector('.log');
  const turns = element.querySelectorAll('.turn');
  const last = turns[turns.length - 1];
  if (!log || !last) return;
  log.scrollTop = last.offsetTop - 4;
  const top = log.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight / 2) window.scrollBy(0, top - 8);
});
// --- viewer ---
// The source viewer (js_on_load of its gr.HTML): an opened passage is scrolled into view inside the viewer; on a
// phone the viewer takes the chat's place, and "Back to the answer" brings back the chat at the quote. "Read" in
// the list of sources opens that document whole; "All sources" (an empty id) brings back the list.
element.addEventListener('click', (event) => {
  const read = event.target.closest('button[data-open]');
  if (read) {
    trigger('select', {key: read.dataset.open});
    return;
  }
  if (!event.target.closest('button.back')) return;
  document.getElementById('workspace')?.classList.remove('reading-source');
  const from = window.qaOpenedFrom;
  if (from && from.isConnected) {
    from.scrollIntoView({block: 'center'});
    from.focus({preventScroll: true});
  }
});
function show() {
  const body = element.querySelector('.viewer-body');
  const mark = element.querySelector('#quoted-passage');
  if (body && !mark) body.scrollTop = 0;  // a whole document, or the list: from its start
  if (!body || !mark) return;
  body.scrollTop = mark.offsetTop - body.clientHeight / 4;
  if (getComputedStyle(element.querySelector('.back')).display !== 'none') {  // the phone layout
    element.scrollIntoView({block: 'start'});
    element.querySelector('.back').focus({preventScroll: true});
  } else {
    body.focus({preventScroll: true});
  }
}
window.qaShowSource = show;
watch('value', show);
