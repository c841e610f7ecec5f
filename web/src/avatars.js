// People's pictures: the avatar images shown over the initials (message authors, channel header members, the profile
// card) and the avatar part of the profile editor (choose an image, see the centred square the server keeps, remove).
// URLs come signed with each profile read (state.users[id].avatarUrls, by size); a user.updated push with `avatar`
// makes the page read that profile again (events.js). Initials stay underneath: an image that fails shows them.
import { h } from './dom.js';
import { api, state, initial, presenceDot, rememberUser, onChange } from './store.js';

const IMAGE_TYPES = 'image/png,image/jpeg,image/gif,image/webp';
const rereads = new Map(); // userId -> when the page last read a profile again because an avatar failed to load

/** An avatar element for `userId` (initials, then the image once known) at `size` px of the API's sizes. */
export function avatarNode(userId, size = 32, withPresence = false) {
    const el = h('span', { class: 'avatar', 'aria-hidden': 'true', 'data-user-initial': userId, 'data-avatar-size': size },
        initial(userId), withPresence ? presenceDot(userId) : null);
    decorate(el);
    return el;
}

/** Shows (or removes) the image of every avatar element on the page, now and whenever people or the page change. */
export function installAvatars(root) {
    const all = () => { for (const el of root.querySelectorAll('[data-user-initial]')) decorate(el); };
    onChange('profile', userId => { for (const el of root.querySelectorAll(`[data-user-initial="${CSS.escape(userId ?? '')}"]`)) decorate(el); });
    onChange('members', all);
    let queued = false;
    new MutationObserver(() => {
        if (queued) return;
        queued = true;
        queueMicrotask(() => { queued = false; all(); });
    }).observe(root, { childList: true, subtree: true });
    all();
}

function decorate(el) {
    const userId = el.dataset.userInitial;
    const urls = state.users.get(userId)?.avatarUrls;
    const size = el.dataset.avatarSize ?? (el.closest('.msg') ? '72' : '32');
    const url = urls?.[size] ?? urls?.['192'] ?? null;
    let img = el.querySelector(':scope > img.avatar-img');
    if (!url) {
        img?.remove();
        return;
    }
    if (img?.getAttribute('src') === url) return;
    if (!img) {
        img = h('img', { class: 'avatar-img', alt: '', decoding: 'async', 'data-testid': 'avatar-img' });
        img.addEventListener('error', () => failed(img, userId));
        if (el.firstChild?.nodeType === Node.TEXT_NODE) el.firstChild.after(img); else el.prepend(img);
    }
    img.src = url;
}

/** A URL that stopped working (expired, or the avatar changed): initials show, and the profile is read again (once a minute). */
function failed(img, userId) {
    img.remove();
    if (Date.now() - (rereads.get(userId) ?? 0) < 60_000) return;
    rereads.set(userId, Date.now());
    api.user(userId).then(rememberUser, () => undefined);
}

/**
 * The editor's avatar part: the current picture, a file input ("Choose a picture") with a preview of the centred square that the server
 * will keep (drawn on a canvas, upright as the photo's EXIF says), and "Remove picture". `changes()` uploads a chosen
 * image through the file flow and answers what PATCH /v1/users/me gets: {avatarFileId} ("" to remove) or {}.
 */
export function avatarEditor(userId) {
    let chosen = null;
    let removing = false;
    const canvas = h('canvas', { class: 'avatar-preview', width: 96, height: 96, hidden: true, 'data-testid': 'avatar-preview', 'aria-label': 'Preview of the new picture' });
    const current = avatarNode(userId, 192);
    current.classList.add('avatar-large');
    const note = h('p', { class: 'hint' }, 'PNG, JPEG, GIF or WebP; the centre square is kept.');
    const input = h('input', { id: 'avatar-file', type: 'file', accept: IMAGE_TYPES, 'aria-label': 'Choose a picture' });
    const remove = h('button', { type: 'button', class: 'small', hidden: !state.users.get(userId)?.avatarUrls }, 'Remove picture');
    input.addEventListener('change', async () => {
        chosen = input.files?.[0] ?? null;
        removing = false;
        if (!chosen) return;
        try {
            await preview(canvas, chosen);
            canvas.hidden = false;
            current.hidden = true;
            note.textContent = `${chosen.name}: the centre square is kept.`;
        } catch {
            chosen = null;
            note.textContent = 'That file is not an image this page can read.';
        }
    });
    remove.addEventListener('click', () => {
        chosen = null;
        removing = true;
        input.value = '';
        canvas.hidden = true;
        current.hidden = false;
        delete current.dataset.userInitial; // no longer decorated: the initials show
        current.querySelector('img')?.remove();
        note.textContent = 'The picture will be removed: initials show instead.';
    });
    const node = h('fieldset', { class: 'avatar-fields' }, h('legend', null, 'Picture'),
        h('div', { class: 'avatar-row' }, current, canvas,
            h('div', { class: 'avatar-choice' }, input, remove, note)));
    return {
        node,
        async changes() {
            if (chosen) return { avatarFileId: await uploadImage(chosen) };
            return removing ? { avatarFileId: '' } : {};
        },
    };
}

/** The centred square of an image file, drawn on the canvas (createImageBitmap turns it upright from its EXIF). */
async function preview(canvas, file) {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const side = Math.min(bitmap.width, bitmap.height);
    const g = canvas.getContext('2d');
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, canvas.width, canvas.height);
    bitmap.close();
}

/** Ask, upload to the signed URL (no bearer token: the URL is the grant), complete: the file id. */
async function uploadImage(file) {
    const ticket = await api.requestUpload(state.wsId, file.name, file.size, IMAGE_TYPES.split(',').includes(file.type) ? file.type : undefined);
    const headers = Object.fromEntries(Object.entries(ticket.uploadHeaders ?? {}).filter(([name]) => !/^(content-length|host)$/i.test(name)));
    const sent = await fetch(ticket.uploadUrl, { method: ticket.uploadMethod || 'PUT', headers, body: file });
    if (!sent.ok) throw new Error(`The picture was not uploaded: the store answered ${sent.status}.`);
    await api.completeUpload(ticket.fileId);
    return ticket.fileId;
}
