// The files a message carries, in the message list: raster images as previews (a click opens the lightbox) and every
// other file as a card (icon by type, name, size); each has a Download button. Download URLs are signed and expire
// (docs/files.md): they are read when needed (GET /v1/files/{id}, when a preview scrolls into view or a button is
// pressed) and reused until shortly before they expire.
import { h } from './dom.js';
import { api, state, toast } from './store.js';

/** The types the server shows inline (docs/files.md, "Types, limits and expiry"): only these are previewed. */
const INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/** A URL is read again when less than this is left of its life. */
const RENEW_BEFORE_MS = 30_000;

const links = new Map(); // fileId -> { promise: Promise<{url, thumbnailUrl}>, expiresAt }

export function isPreviewable(file) {
    return INLINE_IMAGES.has(file.contentType);
}

export function formatSize(bytes) {
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let value = Number(bytes) || 0;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
    return `${unit === 0 || value >= 10 ? Math.round(value) : Number(value.toFixed(1))} ${units[unit]}`;
}

/** An icon and a short label for a file's type (the type the server found in its bytes). */
export function fileKind(file) {
    const type = file.contentType ?? '';
    const extension = /\.([A-Za-z0-9]{1,8})$/.exec(file.name ?? '')?.[1]?.toUpperCase();
    if (type.startsWith('image/')) return { icon: '🖼️', label: type === 'image/svg+xml' ? 'SVG image' : 'Image' };
    if (type === 'application/pdf') return { icon: '📕', label: 'PDF' };
    if (type === 'application/zip' || type === 'application/gzip') return { icon: '🗜️', label: type === 'application/zip' ? 'ZIP archive' : 'gzip archive' };
    if (type === 'text/html') return { icon: '🌐', label: 'HTML' };
    if (type.startsWith('text/')) return { icon: '📄', label: extension ?? 'Text' };
    if (type.startsWith('audio/')) return { icon: '🎵', label: 'Audio' };
    if (type.startsWith('video/')) return { icon: '🎬', label: 'Video' };
    return { icon: '📎', label: extension ?? 'File' };
}

/** A fresh enough signed URL of a file (and of its thumbnail when the server makes one). */
export function fileLink(fileId) {
    const known = links.get(fileId);
    if (known && known.expiresAt - Date.now() > RENEW_BEFORE_MS) return known.promise;
    // The file is readable once the history includes the message carrying it: wait for what the page has seen.
    const seen = Math.max(api.position, state.realtime?.position ?? 0);
    const entry = { expiresAt: Infinity, promise: null };
    entry.promise = api.file(fileId, seen).then(view => {
        entry.expiresAt = Date.parse(view.expiresAt);
        return { url: view.downloadUrl, thumbnailUrl: view.thumbnailUrl ?? null };
    }, err => {
        links.delete(fileId);
        throw err;
    });
    links.set(fileId, entry);
    return entry.promise;
}

/** Downloads a file by a fresh URL (an anchor with `download`: the server also answers attachments for non-images). */
export async function download(file) {
    try {
        const { url } = await fileLink(file.fileId);
        // Another origin (an S3 store) ignores `download`: a new tab then, so that an inline image does not replace the page.
        const elsewhere = new URL(url, location.href).origin !== location.origin;
        const a = h('a', { href: url, download: file.name, target: elsewhere ? '_blank' : null, rel: 'noopener noreferrer', hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
    } catch (err) {
        toast(`Download failed: ${err.message}`);
    }
}

function downloadButton(file) {
    return h('button', { type: 'button', class: 'small download', 'aria-label': `Download ${file.name}`, onclick: () => download(file) }, 'Download');
}

// Previews load their URL when they come near the screen, not when a page of history is read.
const observer = new IntersectionObserver(entries => {
    for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        showImage(entry.target, false);
    }
}, { rootMargin: '300px' });

function showImage(img, retried) {
    fileLink(img.dataset.fileId).then(link => {
        img.onerror = () => {
            // Expired between reading the URL and loading it, or not there: one more try with a new URL.
            if (retried) { img.closest('.attachment')?.classList.add('broken'); return; }
            links.delete(img.dataset.fileId);
            showImage(img, true);
        };
        img.src = img.dataset.full === 'true' ? link.url : link.thumbnailUrl ?? link.url;
    }, () => img.closest('.attachment')?.classList.add('broken'));
}

function imageNode(file, pending) {
    // Width and height (when the server gives them) reserve the preview's box before the image loads.
    const img = h('img', { alt: file.name, 'data-file-id': file.fileId, width: file.width ?? null, height: file.height ?? null });
    if (!pending) observer.observe(img);
    return h('figure', { class: 'attachment image', 'data-testid': 'attachment-image', 'data-file-id': file.fileId },
        h('button', { type: 'button', class: 'image-open', 'aria-label': `Open ${file.name}`, disabled: pending, onclick: () => openLightbox(file) }, img),
        h('figcaption', null, h('span', { class: 'file-name' }, file.name), h('span', { class: 'file-size' }, formatSize(file.size)),
            pending ? null : downloadButton(file)));
}

function cardNode(file, pending) {
    const kind = fileKind(file);
    return h('div', { class: 'attachment file-card', 'data-testid': 'file-card', 'data-file-id': file.fileId },
        h('span', { class: 'file-icon', 'aria-hidden': 'true' }, kind.icon),
        h('span', { class: 'file-info' }, h('span', { class: 'file-name' }, file.name),
            h('span', { class: 'file-size' }, `${formatSize(file.size)} · ${kind.label}`)),
        pending ? null : downloadButton(file));
}

/** The files of a message (null when none); `pending`: not posted yet, so nothing can be downloaded. */
export function attachmentsNode(files, { pending = false } = {}) {
    if (!files?.length) return null;
    return h('div', { class: 'attachments' }, files.map(f => (isPreviewable(f) && !pending ? imageNode(f, pending) : cardNode(f, pending))));
}

/** The image at full size in a modal dialog, with its name, size and Download; Escape, Close or the backdrop close it. */
export function openLightbox(file) {
    const img = h('img', { class: 'lightbox-image', alt: file.name, 'data-file-id': file.fileId, 'data-full': 'true' });
    const dialog = h('dialog', { class: 'lightbox', 'aria-label': file.name, 'data-testid': 'lightbox' },
        img,
        h('div', { class: 'lightbox-bar' },
            h('span', { class: 'file-name' }, file.name), h('span', { class: 'file-size' }, formatSize(file.size)),
            downloadButton(file),
            h('button', { type: 'button', class: 'primary', onclick: () => dialog.close() }, 'Close')));
    dialog.addEventListener('close', () => dialog.remove());
    dialog.addEventListener('click', e => { if (e.target === dialog) dialog.close(); });
    document.body.append(dialog);
    dialog.showModal();
    showImage(img, false);
}
