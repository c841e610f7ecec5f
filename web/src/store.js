// The page's state and the helpers every part reads it with: session, channels, message stores, users.
// The state layer imports no view: what changed is announced with changed(topic), and app.js subscribes the views
// that show it (imports go one way: api -> store -> channels -> views -> app; scripts/check-web-imports.mjs checks it).
import { h } from './dom.js';
import { Api } from './api.js';

export const SESSION_KEY = 'esc.session';
export const WORKSPACE_KEY = 'esc.workspace';
export const EMOJI = ['👍', '🎉', '❤️', '😄', '👀', '✅'];
export const TYPING_SHOWN_MS = 5000;
export const TYPING_SENT_EVERY_MS = 3000;
export const api = new Api(() => changed('signed-out'));

const listeners = new Map(); // topic -> functions

/**
 * Subscribes a view to a change. Topics: 'signed-out' (the API answered 401), 'channels' (the channel list),
 * 'members' (channelId: a channel's members), 'unread' (counts or user names in the sidebar), 'connection' (the hub's
 * state), 'workspaces' (the workspace list), 'pins' (channelId, position: a channel's pins changed at that log position),
 * 'profile' (userId: a person's profile or status changed, or their status expired), 'posted' (channelId, message,
 * position: a message the page had not seen arrived from the hub).
 */
export function onChange(topic, fn) {
    if (!listeners.has(topic)) listeners.set(topic, []);
    listeners.get(topic).push(fn);
}

/** Announces a change to the views subscribed to it (at once, in the order they subscribed). */
export function changed(topic, ...args) {
    for (const fn of listeners.get(topic) ?? []) fn(...args);
}

export const state = {
    session: null, // {userId, token}
    workspaces: [],
    wsId: null,
    channels: new Map(), // channelId -> channel as the list API gives it (+ lastSeq kept current)
    current: null,
    stores: new Map(), // channelId -> { all: Map<seq, message>, pending: Map<clientMsgId, pending>, loaded, hasMore, loading }
    users: new Map(), // userId -> { displayName, presence, title, timeZone, status: {emoji, text, expiresAt} | null, avatarUrls: {'32': url, ...} | null }
    members: new Map(), // channelId -> userIds
    typing: new Map(), // channelId -> Map<userId, expiresAt>
    thread: null, // { channelId, rootSeq, loaded }
    editing: null, // key of the message being edited
    picker: null, // key of the message whose emoji picker is open
    pins: new Map(), // channelId -> its pinned messages as GET .../pins answered them, newest pin first
    pinsOpen: false, // the pins panel is shown (for the current channel)
    confirmDelete: null,
    connection: 'connecting',
    presenceWanted: new Set(),
    /** @type {import('./realtime.js').Realtime|null} the hub connection */
    realtime: null,
};

export const ui = {}; // the shell's long-lived nodes

export const nodeCache = new Map(); // `${scope}:${channelId}:${seq}` -> { el, ver }

export const userFetches = new Map();

export function me() { return state.session.userId; }

/** The creator of a workspace is its admin: the page knows it even when the workspace list has not caught up yet. */
export function withCreated(list, created, name) {
    return list.some(w => w.workspaceId === created.workspaceId)
        ? list
        : [...list, { workspaceId: created.workspaceId, name, role: 'admin' }];
}

export function channelLabel(c) {
    if (!c) return '';
    if (c.kind === 'dm') {
        const others = (state.members.get(c.channelId) ?? []).filter(u => u !== me());
        return others.length ? others.map(userName).join(', ') : 'Direct message';
    }
    return c.name;
}

export function storeOf(channelId) {
    let store = state.stores.get(channelId);
    if (!store) {
        store = { all: new Map(), pending: new Map(), loaded: false, hasMore: true, loading: false };
        state.stores.set(channelId, store);
    }
    return store;
}

export function upsert(channelId, message) {
    const store = storeOf(channelId);
    const known = store.all.get(message.seq);
    const merged = { ...known, ...message, ver: (known?.ver ?? 0) + 1 };
    store.all.set(message.seq, merged);
    wantUser(message.userId);
    return merged;
}

export function topLevel(store) {
    return [...store.all.values()].filter(m => m.threadRootSeq == null).sort((a, b) => a.seq - b.seq);
}

export function userName(userId) {
    const user = state.users.get(userId);
    if (user) return user.displayName;
    wantUser(userId);
    return '…';
}

export function wantUser(userId) {
    if (!userId || state.users.has(userId) || userFetches.has(userId)) return;
    userFetches.set(userId, api.user(userId).then(u => {
        rememberUser(u);
        changed('unread');
    }, () => undefined));
}

const statusTimers = new Map(); // userId -> the timer that hides their status when it expires

/**
 * Merges what the page learnt of a person (a profile read, a user.updated push: only the fields given) and redraws
 * their names and status badges. A status with an expiry is hidden by a timer at that instant: the server writes
 * nothing when a status expires (it computes it when read), so the page does the same.
 */
export function rememberUser(u) {
    const known = state.users.get(u.userId) ?? { displayName: '…', presence: 'offline', title: null, timeZone: null, status: null };
    const merged = { ...known };
    for (const key of ['displayName', 'presence', 'title', 'timeZone', 'status', 'avatarUrls']) {
        if (u[key] !== undefined) merged[key] = u[key];
    }
    state.users.set(u.userId, merged);
    clearTimeout(statusTimers.get(u.userId));
    const expiresAt = merged.status?.expiresAt ? Date.parse(merged.status.expiresAt) : null;
    if (expiresAt) {
        // setTimeout takes at most 2^31-1 ms (about 24 days): a later expiry is checked again then.
        statusTimers.set(u.userId, setTimeout(() => rememberUser({ userId: u.userId }), Math.min(Math.max(0, expiresAt - Date.now()) + 50, 2 ** 31 - 1)));
    }
    refreshUserNodes();
    changed('profile', u.userId);
}

/** The status a person shows now: none once it expired. */
export function statusOf(userId) {
    const status = state.users.get(userId)?.status;
    if (!status) return null;
    return status.expiresAt && Date.parse(status.expiresAt) <= Date.now() ? null : status;
}

const profileFetches = new Set(); // people whose profile (status) the page has read once

/** A person's status emoji next to their name, kept current by refreshUserNodes (their profile is read once). */
export function statusBadge(userId) {
    if (userId && !profileFetches.has(userId)) {
        profileFetches.add(userId);
        api.user(userId).then(rememberUser, () => profileFetches.delete(userId));
    }
    const status = statusOf(userId);
    return h('span', { class: 'user-status', 'data-user-status': userId, title: status?.text || null }, status?.emoji ?? '');
}

/** Author names and presence dots are marked with data attributes and updated in place. */
export function refreshUserNodes() {
    for (const el of document.querySelectorAll('[data-user-name]')) {
        const user = state.users.get(el.dataset.userName);
        if (user && el.textContent !== user.displayName) el.textContent = user.displayName;
    }
    for (const el of document.querySelectorAll('[data-user-status]')) {
        const status = statusOf(el.dataset.userStatus);
        if (el.textContent !== (status?.emoji ?? '')) el.textContent = status?.emoji ?? '';
        if (status?.text) el.title = status.text; else el.removeAttribute('title');
    }
    for (const el of document.querySelectorAll('[data-user-initial]')) {
        const letter = initial(el.dataset.userInitial);
        if (el.firstChild?.nodeType === Node.TEXT_NODE && el.firstChild.textContent !== letter) el.firstChild.textContent = letter;
    }
    for (const el of document.querySelectorAll('[data-presence]')) {
        const presence = state.users.get(el.dataset.presence)?.presence ?? 'unknown';
        el.dataset.status = presence;
        el.setAttribute('title', presence);
        el.setAttribute('aria-label', presence);
    }
}

export function presenceDot(userId) {
    const presence = state.users.get(userId)?.presence ?? 'unknown';
    return h('span', { class: 'presence', role: 'img', 'data-presence': userId, 'data-status': presence, title: presence, 'aria-label': presence });
}

export function typingIn(channelId) {
    const map = state.typing.get(channelId);
    if (!map) return [];
    const now = Date.now();
    for (const [u, until] of map) if (until < now) map.delete(u);
    return [...map.keys()];
}

export function reacted(reactions, emoji, userId, on) {
    const list = reactions.map(r => ({ ...r, userIds: [...(r.userIds ?? [])] }));
    let entry = list.find(r => r.emoji === emoji);
    if (on) {
        if (!entry) list.push(entry = { emoji, count: 0, userIds: [] });
        if (!entry.userIds.includes(userId)) entry.userIds.push(userId);
    } else if (entry) {
        entry.userIds = entry.userIds.filter(u => u !== userId);
    }
    for (const r of list) r.count = r.userIds.length;
    return list.filter(r => r.count > 0);
}

/** `@Ada` becomes `<@ada's id>` when Ada is a member of the channel (longest names first). */
export function withMentions(channelId, text) {
    const people = (state.members.get(channelId) ?? []).map(id => ({ id, name: state.users.get(id)?.displayName }))
        .filter(p => p.name).sort((a, b) => b.name.length - a.name.length);
    let out = text;
    for (const p of people) {
        const escaped = p.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        out = out.replace(new RegExp(`(^|\\s)@${escaped}(?![\\w])`, 'g'), `$1<@${p.id}>`);
    }
    return out;
}

export function toast(text) {
    const el = h('p', { class: 'toast' }, text);
    ui.toasts?.append(el);
    setTimeout(() => el.remove(), 6000);
}

export function plural(n, word) {
    return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function initial(userId) {
    const name = state.users.get(userId)?.displayName ?? '?';
    return [...name][0]?.toUpperCase() ?? '?';
}
