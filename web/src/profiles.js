// People's profiles: the card shown on a click on an author's name (display name, title, local time, status,
// presence) and the editor of one's own profile and status. Names and status badges elsewhere follow the state
// (store.js rememberUser, fed by profile reads and user.updated pushes).
import { h, field } from './dom.js';
import { api, state, me, userName, statusOf, rememberUser, presenceDot, onChange } from './store.js';
import { dialog } from './dialogs.js';
import { avatarNode, avatarEditor } from './avatars.js';

/** Until when a status shows, as the editor offers it: minutes from now, or 'today' (midnight, local time). */
const CLEAR_AFTER = [['', "Don't clear"], ['30', '30 minutes'], ['60', '1 hour'], ['240', '4 hours'], ['today', 'Today']];

let card = null; // { el, userId }
let installed = false;

/** Clicks (and Enter or Space) on an element marked data-profile open that person's card (installed once). */
export function installProfileCards(root) {
    if (installed) return;
    installed = true;
    root.addEventListener('click', e => {
        const target = e.target.closest?.('[data-profile]');
        if (target) openProfileCard(target.dataset.profile);
    });
    root.addEventListener('keydown', e => {
        const target = e.target.closest?.('[data-profile]');
        if (target && (e.key === 'Enter' || e.key === ' ')) {
            e.preventDefault();
            openProfileCard(target.dataset.profile);
        }
    });
    onChange('profile', userId => { if (card?.userId === userId) renderCard(); });
}

export function openProfileCard(userId) {
    card?.el.close();
    const el = h('dialog', { class: 'profile-card', 'aria-labelledby': 'profile-card-name', 'data-testid': 'profile-card' });
    el.addEventListener('close', () => { el.remove(); if (card?.el === el) card = null; });
    card = { el, userId };
    document.body.append(el);
    renderCard();
    el.showModal();
    // The card reads the profile afresh (the page may know only a name from a members list).
    api.user(userId).then(rememberUser, () => undefined);
}

function renderCard() {
    const { el, userId } = card;
    const user = state.users.get(userId) ?? {};
    const status = statusOf(userId);
    // replaceChildren would show a null as the text "null": what is left out is filtered first.
    el.replaceChildren(...[
        h('div', { class: 'avatar-large', 'data-testid': 'profile-avatar' }, avatarNode(userId, 192)),
        h('h2', { id: 'profile-card-name' }, presenceDot(userId), h('span', { 'data-user-name': userId }, userName(userId))),
        user.title ? h('p', { class: 'profile-title', 'data-testid': 'profile-title' }, user.title) : null,
        user.timeZone ? h('p', { class: 'profile-time', 'data-testid': 'profile-time' }, `Local time ${localTime(user.timeZone)} (${user.timeZone})`) : null,
        status ? h('p', { class: 'profile-status', 'data-testid': 'profile-status' },
            h('span', { class: 'status-emoji' }, status.emoji), ' ', status.text,
            status.expiresAt ? h('small', null, ` · until ${new Date(status.expiresAt).toLocaleString()}`) : null) : null,
        h('div', { class: 'dialog-actions' },
            userId === me() ? h('button', { type: 'button', onclick: () => { el.close(); openProfileEditor(); } }, 'Edit profile') : null,
            h('button', { type: 'button', class: 'primary', onclick: () => el.close() }, 'Close')),
    ].filter(Boolean));
}

function localTime(timeZone) {
    try {
        return new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', timeZone }).format(new Date());
    } catch {
        return '?';
    }
}

/** The editor of one's own profile and status: what changed is sent (PATCH /v1/users/me, PUT or DELETE .../status). */
export function openProfileEditor() {
    const user = state.users.get(me()) ?? {};
    const status = statusOf(me());
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const input = (id, name, value, attrs = {}) => h('input', { id, name, value: value ?? '', ...attrs });
    const picture = avatarEditor(me());
    dialog('Edit your profile', [
        picture.node,
        field('Display name', input('profile-name', 'displayName', user.displayName, { required: true, maxlength: 80 })),
        field('Title', input('profile-title', 'title', user.title, { maxlength: 100, placeholder: 'e.g. Release manager' })),
        field('Time zone', input('profile-zone', 'timeZone', user.timeZone, { list: 'profile-zones', placeholder: 'e.g. Europe/Paris' }),
            'Leave empty for none.'),
        h('datalist', { id: 'profile-zones' }, zones.map(z => h('option', { value: z }))),
        h('fieldset', { class: 'status-fields' }, h('legend', null, 'Status'),
            field('Emoji', input('status-emoji', 'emoji', status?.emoji, { maxlength: 64, placeholder: '🌴' })),
            field('Text', input('status-text', 'text', status?.text, { maxlength: 100, placeholder: 'e.g. On holiday' }),
                'Empty emoji and text clear the status.'),
            field('Clear after', h('select', { id: 'status-clear', name: 'clearAfter' },
                CLEAR_AFTER.map(([value, label]) => h('option', { value }, label))))),
    ], async form => {
        const changes = {};
        for (const [key, value] of [['displayName', form.displayName.value.trim()], ['title', form.title.value.trim()], ['timeZone', form.timeZone.value.trim()]]) {
            if (value !== (user[key] ?? '')) changes[key] = value;
        }
        Object.assign(changes, await picture.changes());
        if (Object.keys(changes).length) rememberUser({ ...(await api.updateProfile(changes)), presence: undefined });
        const emoji = form.emoji.value.trim();
        const text = form.text.value.trim();
        const expiresAt = clearAt(form.clearAfter.value);
        if (!emoji && !text) {
            if (status) rememberUser({ ...(await api.clearStatus()), presence: undefined });
        } else if (emoji !== (status?.emoji ?? '') || text !== (status?.text ?? '') || form.clearAfter.value) {
            rememberUser({ ...(await api.setStatus(emoji, text, expiresAt)), presence: undefined });
        }
    }, 'Save');
}

function clearAt(choice) {
    if (!choice) return null;
    if (choice === 'today') {
        const midnight = new Date();
        midnight.setHours(24, 0, 0, 0);
        return midnight.toISOString();
    }
    return new Date(Date.now() + Number(choice) * 60_000).toISOString();
}
