// The composer's files: attached with the 📎 button, dropped on the channel (or the thread) or pasted into the text
// box. Each file is uploaded at once, in the API's three steps (docs/files.md): ask (POST /v1/files: the size limit
// and the workspace's quota refuse a file here, before any byte is sent), send the bytes to the signed URL (an
// XMLHttpRequest, for its upload progress), complete (POST /v1/files/{id}/complete). The tray shows a progress bar per
// file and a ✕ that cancels an upload or removes a file; the message is posted with the files that are ready, and
// waits while one is still uploading.
import { h } from './dom.js';
import { ApiError } from './api.js';
import { api, state } from './store.js';
import { fileKind, formatSize } from './attachments.js';

/** Files:MaxFilesPerMessage's default (docs/files.md): the server refuses more. */
const MAX_FILES = 10;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const BUSY = new Set(['asking', 'uploading', 'completing']);

const trays = new WeakMap(); // composer form -> its tray

/** Adds the 📎 button, the tray and paste handling to a composer form (whose toolbar withFormatting made). */
export function withUploads(form, input, channel) {
    const tray = {
        channel,
        entries: [],
        list: h('ul', { class: 'upload-tray', 'aria-label': 'Files to send', hidden: true }),
        note: h('p', { class: 'upload-note', role: 'alert', hidden: true }),
    };
    trays.set(form, tray);
    const picker = h('input', {
        type: 'file', multiple: true, hidden: true, 'data-testid': 'file-input',
        onchange: e => { addFiles(tray, [...e.target.files]); e.target.value = ''; },
    });
    const attach = h('button', {
        type: 'button', class: 'small attach', 'aria-label': 'Attach files', title: 'Attach files (or drop or paste them here)',
        disabled: channel.archived, onclick: () => picker.click(),
    }, '📎');
    (form.querySelector('.format-tools') ?? form).prepend(attach, picker);
    input.before(tray.list, tray.note);
    input.addEventListener('paste', e => {
        const files = [...(e.clipboardData?.files ?? [])];
        if (!files.length) return;
        e.preventDefault();
        addFiles(tray, files);
    });
    return form;
}

/**
 * What a submit of `form` sends: the uploaded files' metadata ({fileId, name, size, contentType, sha256}), the tray
 * then emptied; or null while a file is still uploading (the tray says so and keeps everything).
 */
export function takeUploads(form) {
    const tray = trays.get(form);
    if (!tray) return [];
    if (tray.entries.some(e => BUSY.has(e.state))) {
        say(tray, 'Wait for the uploads to finish, or cancel them.');
        return null;
    }
    const ready = tray.entries.filter(e => e.state === 'ready').map(e => ({ ...e.uploaded, name: e.name }));
    for (const entry of [...tray.entries]) remove(tray, entry);
    say(tray, '');
    return ready;
}

function say(tray, text) {
    tray.note.textContent = text;
    tray.note.hidden = !text;
}

function addFiles(tray, files) {
    if (tray.channel.archived) return;
    for (const file of files) {
        if (tray.entries.length >= MAX_FILES) {
            say(tray, `A message carries at most ${MAX_FILES} files.`);
            break;
        }
        const entry = { file, name: file.name || 'pasted file', size: file.size, state: 'asking', loaded: 0, error: null, upload: null, uploaded: null };
        entry.progress = h('progress', { max: 1, value: 0, 'aria-label': `Upload of ${entry.name}` });
        entry.status = h('span', { class: 'upload-status' });
        entry.button = h('button', { type: 'button', class: 'icon', onclick: () => cancel(tray, entry) }, '✕');
        entry.node = h('li', { class: 'upload', 'data-testid': 'upload' },
            h('span', { class: 'file-icon', 'aria-hidden': 'true' }, fileKind({ name: entry.name, contentType: file.type }).icon),
            h('span', { class: 'upload-info' },
                h('span', { class: 'file-name' }, entry.name), h('span', { class: 'file-size' }, formatSize(entry.size)),
                entry.progress, entry.status),
            entry.button);
        tray.entries.push(entry);
        tray.list.append(entry.node);
        tray.list.hidden = false;
        show(entry);
        upload(entry);
    }
}

function show(entry) {
    const busy = BUSY.has(entry.state);
    entry.node.dataset.state = entry.state;
    entry.progress.hidden = !busy;
    entry.progress.value = entry.size ? entry.loaded / entry.size : 0;
    entry.status.textContent = {
        asking: 'Waiting…',
        uploading: `Uploading ${Math.floor((entry.size ? entry.loaded / entry.size : 0) * 100)} %`,
        completing: 'Checking…',
        ready: 'Ready',
    }[entry.state] ?? entry.error;
    entry.status.setAttribute('role', entry.state === 'failed' ? 'alert' : 'status');
    entry.button.setAttribute('aria-label', `${busy ? 'Cancel upload of' : 'Remove'} ${entry.name}`);
    entry.button.title = busy ? 'Cancel upload' : 'Remove';
}

async function upload(entry) {
    try {
        const type = (entry.file.type || '').toLowerCase();
        const ticket = await api.requestUpload(state.wsId, entry.name, entry.size, MEDIA_TYPE.test(type) ? type : undefined);
        if (entry.state === 'cancelled') return;
        entry.state = 'uploading';
        show(entry);
        entry.upload = sendBytes(ticket, entry.file, loaded => { entry.loaded = loaded; show(entry); });
        await entry.upload.done;
        if (entry.state === 'cancelled') return;
        entry.state = 'completing';
        show(entry);
        entry.uploaded = await api.completeUpload(ticket.fileId);
        if (entry.state === 'cancelled') return;
        entry.state = 'ready';
    } catch (err) {
        if (entry.state === 'cancelled') return;
        entry.state = 'failed';
        entry.error = refusal(entry, err);
    }
    show(entry);
}

/** What the person is told when a file is refused: the API's problem, in words. */
function refusal(entry, err) {
    const what = `“${entry.name}” (${formatSize(entry.size)})`;
    if (err.code === 'payload_too_large') return `${what} is too large to upload. ${err.message}`;
    if (err.code === 'quota_exceeded') return `${what} does not fit: the workspace's file storage is full. ${err.message}`;
    if (err.code === 'invalid_request' && entry.size === 0) return `${what} is empty: there is nothing to upload.`;
    return `${what} was not uploaded: ${err.message}`;
}

/** PUTs the bytes to the signed URL (no bearer token: the URL is the grant), reporting progress. */
function sendBytes(ticket, file, onProgress) {
    const xhr = new XMLHttpRequest();
    const done = new Promise((resolve, reject) => {
        xhr.upload.onprogress = e => onProgress(e.loaded);
        xhr.onload = () => {
            if (xhr.status >= 200 && xhr.status < 300) return resolve();
            let problem = null;
            try { problem = JSON.parse(xhr.responseText); } catch { /* not JSON: an S3 error, say */ }
            return reject(new ApiError(xhr.status, problem?.code, problem?.detail || problem?.title || `The store answered ${xhr.status}.`));
        };
        xhr.onerror = () => reject(new ApiError(0, 'network', 'The upload was interrupted.'));
        xhr.onabort = () => reject(new ApiError(0, 'cancelled', 'Cancelled.'));
    });
    xhr.open(ticket.uploadMethod || 'PUT', ticket.uploadUrl);
    for (const [name, value] of Object.entries(ticket.uploadHeaders ?? {})) {
        if (!/^(content-length|host)$/i.test(name)) xhr.setRequestHeader(name, value);
    }
    xhr.send(file);
    return { done, abort: () => xhr.abort() };
}

/** ✕: an upload in progress stops (its pending record expires on the server and is swept); a file leaves the tray. */
function cancel(tray, entry) {
    if (BUSY.has(entry.state)) {
        entry.state = 'cancelled';
        entry.upload?.abort();
    }
    remove(tray, entry);
    if (!tray.entries.some(e => BUSY.has(e.state))) say(tray, '');
}

function remove(tray, entry) {
    tray.entries = tray.entries.filter(e => e !== entry);
    entry.node.remove();
    tray.list.hidden = tray.entries.length === 0;
}

// Dropping files on the channel pane or the thread panel adds them to that composer; elsewhere a drop does nothing
// (the browser does not navigate away to the file).
function dropZone(e) {
    const zone = e.target.closest?.('#thread, #pane');
    const form = zone?.querySelector('form.composer');
    return form && trays.has(form) ? { zone, tray: trays.get(form) } : null;
}

function carriesFiles(e) {
    return [...(e.dataTransfer?.types ?? [])].includes('Files');
}

function unmark() {
    for (const el of document.querySelectorAll('.drop-target')) el.classList.remove('drop-target');
}

document.addEventListener('dragover', e => {
    const target = carriesFiles(e) ? dropZone(e) : null;
    if (!target) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    if (!target.zone.classList.contains('drop-target')) { unmark(); target.zone.classList.add('drop-target'); }
});
document.addEventListener('dragleave', e => { if (!e.relatedTarget) unmark(); });
document.addEventListener('drop', e => {
    unmark();
    const target = dropZone(e);
    if (!target || !e.dataTransfer?.files?.length) return;
    e.preventDefault();
    addFiles(target.tray, [...e.dataTransfer.files]);
});
