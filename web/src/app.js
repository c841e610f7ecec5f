// EventSourcedChat web client: one page, plain DOM, the public REST API and the SignalR hub only.
import { Api } from './api.js';
import { Realtime } from './realtime.js';
import { h, reconcile, highlightNodes, newId, time, dayKey, dayLabel } from './dom.js';

const SESSION_KEY = 'esc.session';
const WORKSPACE_KEY = 'esc.workspace';
const EMOJI = ['👍', '🎉', '❤️', '😄', '👀', '✅'];
const TYPING_SHOWN_MS = 5000;
const TYPING_SENT_EVERY_MS = 3000;

const api = new Api(() => logout());
/** @type {Realtime|null} */
let realtime = null;

const state = {
    session: null, // {userId, token}
    workspaces: [],
    wsId: null,
    channels: new Map(), // channelId -> channel as the list API gives it (+ lastSeq kept current)
    current: null,
    stores: new Map(), // channelId -> { all: Map<seq, message>, pending: Map<clientMsgId, pending>, loaded, hasMore, loading }
    users: new Map(), // userId -> { displayName, presence }
    members: new Map(), // channelId -> userIds
    typing: new Map(), // channelId -> Map<userId, expiresAt>
    thread: null, // { channelId, rootSeq, loaded }
    editing: null, // key of the message being edited
    picker: null, // key of the message whose emoji picker is open
    confirmDelete: null,
    connection: 'connecting',
    presenceWanted: new Set(),
};

const ui = {}; // the shell's long-lived nodes
const nodeCache = new Map(); // `${scope}:${channelId}:${seq}` -> { el, ver }
const userFetches = new Map();
let lastTypingSent = 0;
let markReadTimer = null;
let refreshTimer = null;
let bannerTimer = null;

// ---------------------------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------------------------

function loadSession() {
    try { return JSON.parse(localStorage.getItem(SESSION_KEY)); } catch { return null; }
}

async function boot() {
    state.session = loadSession();
    if (!state.session?.token) return renderAuth();
    api.token = state.session.token;
    if (!state.users.has(me())) {
        // Right after sign-up the user read model may lag a moment: a 404 is retried for a few seconds.
        for (let attempt = 0; ; attempt++) {
            try {
                const user = await api.user(me());
                state.users.set(user.userId, { displayName: user.displayName, presence: 'active' });
                break;
            } catch (err) {
                if (err.status === 404 && attempt < 20) { await new Promise(r => setTimeout(r, 250)); continue; }
                if (err.status === 401 || err.status === 404) return logout();
                return renderFatal(err);
            }
        }
    }
    startRealtime();
    await loadWorkspaces();
}

function signedIn(result, displayName) {
    state.session = { userId: result.userId, token: result.token };
    if (displayName) state.users.set(result.userId, { displayName, presence: 'active' });
    localStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
    boot();
}

async function logout() {
    localStorage.removeItem(SESSION_KEY);
    const rt = realtime;
    realtime = null;
    if (rt) await rt.stop().catch(() => undefined);
    location.reload();
}

function me() { return state.session.userId; }

// ---------------------------------------------------------------------------------------------------------------
// Screens: sign in / sign up, workspace picker, fatal error
// ---------------------------------------------------------------------------------------------------------------

function renderAuth(mode = 'login') {
    const error = h('p', { class: 'form-error', role: 'alert' });
    const email = h('input', { id: 'auth-email', type: 'email', required: true, autocomplete: 'email' });
    const password = h('input', { id: 'auth-password', type: 'password', required: true, minlength: 8, autocomplete: mode === 'login' ? 'current-password' : 'new-password' });
    const name = h('input', { id: 'auth-name', type: 'text', required: true, maxlength: 80, autocomplete: 'name' });
    const submit = h('button', { type: 'submit', class: 'primary' }, mode === 'login' ? 'Log in' : 'Create account');
    const form = h('form', {
        class: 'card auth', 'aria-labelledby': 'auth-title',
        onsubmit: async e => {
            e.preventDefault();
            error.textContent = '';
            submit.disabled = true;
            try {
                signedIn(mode === 'login'
                    ? await api.login(email.value, password.value)
                    : await api.register(email.value, password.value, name.value), mode === 'signup' ? name.value : null);
            } catch (err) {
                error.textContent = err.status === 401 ? 'Wrong email or password.'
                    : err.code === 'name_taken' ? 'An account with this email exists: log in instead.'
                        : err.message;
                submit.disabled = false;
            }
        },
    },
    h('h1', { id: 'auth-title' }, mode === 'login' ? 'Log in to EventSourcedChat' : 'Create your account'),
    mode === 'signup' ? field('Display name', name) : null,
    field('Email', email),
    field(mode === 'signup' ? 'Password (8 characters or more)' : 'Password', password),
    error,
    submit,
    h('p', { class: 'switch' }, mode === 'login' ? 'New here? ' : 'Have an account? ',
        h('button', { type: 'button', class: 'link', onclick: () => renderAuth(mode === 'login' ? 'signup' : 'login') },
            mode === 'login' ? 'Create an account' : 'Log in')));
    document.getElementById('app').replaceChildren(h('main', { class: 'center' }, form));
    (mode === 'signup' ? name : email).focus();
}

function field(label, input, hint) {
    return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hint ? h('small', null, hint) : null);
}

function renderFatal(err) {
    document.getElementById('app').replaceChildren(h('main', { class: 'center' },
        h('div', { class: 'card' }, h('h1', null, 'Something went wrong'), h('p', null, err.message),
            h('button', { class: 'primary', onclick: () => location.reload() }, 'Reload'))));
}

async function loadWorkspaces() {
    try {
        state.workspaces = await api.workspaces();
    } catch (err) {
        return renderFatal(err);
    }
    if (state.workspaces.length === 0) return renderWorkspacePicker();
    const saved = localStorage.getItem(WORKSPACE_KEY);
    const ws = state.workspaces.find(w => w.workspaceId === saved) ?? state.workspaces[0];
    await selectWorkspace(ws.workspaceId);
}

let pickerPoll = null;

function renderWorkspacePicker() {
    ui.shell = null;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const name = h('input', { id: 'ws-name', required: true, maxlength: 80, placeholder: 'Acme' });
    const form = h('form', {
        class: 'card', 'aria-labelledby': 'ws-title',
        onsubmit: async e => {
            e.preventDefault();
            try {
                const created = await api.createWorkspace(name.value.trim());
                clearInterval(pickerPoll);
                state.workspaces = withCreated(await api.workspaces(created.position).catch(() => []), created, name.value.trim());
                await selectWorkspace(created.workspaceId);
            } catch (err) { error.textContent = err.message; }
        },
    },
    h('h1', { id: 'ws-title' }, 'Create a workspace'),
    field('Workspace name', name), error,
    h('button', { type: 'submit', class: 'primary' }, 'Create workspace'),
    h('hr'),
    h('h2', null, 'Or join one'),
    h('p', null, 'Ask a workspace admin to add you with your user id. This page opens the workspace as soon as you are added.'),
    userIdBox(),
    h('button', { type: 'button', class: 'link', onclick: logout }, 'Log out'));
    document.getElementById('app').replaceChildren(h('main', { class: 'center' }, form));
    name.focus();
    clearInterval(pickerPoll);
    pickerPoll = setInterval(async () => {
        const list = await api.workspaces().catch(() => []);
        if (list.length > 0) {
            clearInterval(pickerPoll);
            state.workspaces = list;
            await selectWorkspace(list[0].workspaceId);
        }
    }, 3000);
}

/** The creator of a workspace is its admin: the page knows it even when the workspace list has not caught up yet. */
function withCreated(list, created, name) {
    return list.some(w => w.workspaceId === created.workspaceId)
        ? list
        : [...list, { workspaceId: created.workspaceId, name, role: 'admin' }];
}

function userIdBox() {
    const code = h('code', { id: 'my-user-id', 'data-testid': 'my-user-id' }, me());
    return h('div', { class: 'user-id' }, h('span', null, 'Your user id: '), code,
        h('button', {
            type: 'button', class: 'small', onclick: e => {
                navigator.clipboard?.writeText(me()).then(() => { e.target.textContent = 'Copied'; }, () => undefined);
            },
        }, 'Copy'));
}

// ---------------------------------------------------------------------------------------------------------------
// Workspace and channels
// ---------------------------------------------------------------------------------------------------------------

async function selectWorkspace(wsId) {
    clearInterval(pickerPoll);
    state.wsId = wsId;
    localStorage.setItem(WORKSPACE_KEY, wsId);
    state.channels = new Map();
    state.current = null;
    state.thread = null;
    buildShell();
    await refreshChannels();
    const saved = localStorage.getItem(`esc.channel.${wsId}`);
    const first = (saved && state.channels.get(saved)?.isMember ? saved : null)
        ?? [...state.channels.values()].find(c => c.isMember)?.channelId;
    if (first) await openChannel(first, { focus: false });
    else renderPane();
}

function isAdmin() {
    return state.workspaces.find(w => w.workspaceId === state.wsId)?.role === 'admin';
}

async function refreshChannels(minPosition) {
    let list;
    try { list = await api.channels(state.wsId, minPosition); } catch { return; }
    const seen = new Set();
    for (const c of list) {
        seen.add(c.channelId);
        const known = state.channels.get(c.channelId);
        state.channels.set(c.channelId, { ...c, lastSeq: Math.max(c.lastSeq ?? 0, known?.lastSeq ?? 0) });
        if (c.kind === 'dm' && !state.members.has(c.channelId)) loadMembers(c.channelId);
    }
    for (const id of [...state.channels.keys()]) if (!seen.has(id)) state.channels.delete(id);
    renderSidebar();
    renderHeader();
}

let refreshPosition = 0;

/** Rereads the workspaces and the channel list once the read models have applied `minPosition` (an event's position). */
function refreshSoon(minPosition) {
    refreshPosition = Math.max(refreshPosition, minPosition ?? 0);
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
        const position = refreshPosition;
        refreshPosition = 0;
        const list = await api.workspaces(position).catch(() => null);
        if (list) state.workspaces = list;
        await refreshChannels(position);
        renderTopbar();
    }, 150);
}

async function loadMembers(channelId, minPosition) {
    try {
        const list = await api.members(channelId, minPosition);
        for (const m of list) {
            const known = state.users.get(m.userId);
            state.users.set(m.userId, { displayName: m.displayName, presence: known?.presence ?? m.presence });
        }
        state.members.set(channelId, list.map(m => m.userId));
        updatePresenceSubscription();
        renderSidebar();
        if (channelId === state.current) renderHeader();
        refreshUserNodes();
    } catch { /* not visible any more */ }
}

function channelLabel(c) {
    if (!c) return '';
    if (c.kind === 'dm') {
        const others = (state.members.get(c.channelId) ?? []).filter(u => u !== me());
        return others.length ? others.map(userName).join(', ') : 'Direct message';
    }
    return c.name;
}

function storeOf(channelId) {
    let store = state.stores.get(channelId);
    if (!store) {
        store = { all: new Map(), pending: new Map(), loaded: false, hasMore: true, loading: false };
        state.stores.set(channelId, store);
    }
    return store;
}

function upsert(channelId, message) {
    const store = storeOf(channelId);
    const known = store.all.get(message.seq);
    const merged = { ...known, ...message, ver: (known?.ver ?? 0) + 1 };
    store.all.set(message.seq, merged);
    wantUser(message.userId);
    return merged;
}

function topLevel(store) {
    return [...store.all.values()].filter(m => m.threadRootSeq == null).sort((a, b) => a.seq - b.seq);
}

async function openChannel(channelId, { focus = true } = {}) {
    if (state.thread && state.thread.channelId !== channelId) state.thread = null;
    state.current = channelId;
    state.editing = state.picker = state.confirmDelete = null;
    localStorage.setItem(`esc.channel.${state.wsId}`, channelId);
    closeDrawer();
    renderSidebar();
    renderPane();
    renderThread();
    const channel = state.channels.get(channelId);
    if (channel?.isMember) {
        const store = storeOf(channelId);
        if (!store.loaded) await loadOlder(channelId);
        renderMessages('bottom');
        loadMembers(channelId);
        markRead();
        if (focus) ui.composer?.focus();
    }
}

async function loadOlder(channelId) {
    const store = storeOf(channelId);
    if (store.loading || (store.loaded && !store.hasMore)) return;
    store.loading = true;
    const oldest = topLevel(store)[0]?.seq;
    try {
        const page = await api.history(channelId, store.loaded ? oldest : undefined, 50);
        for (const m of page.messages) {
            if (!store.all.has(m.seq)) upsert(channelId, m);
        }
        store.hasMore = page.hasMore;
        store.loaded = true;
    } catch {
        store.hasMore = store.loaded ? store.hasMore : true;
    } finally {
        store.loading = false;
    }
    if (channelId === state.current) renderMessages(oldest ? 'prepend' : 'bottom');
}

function markReadSoon() {
    clearTimeout(markReadTimer);
    markReadTimer = setTimeout(markRead, 250);
}

async function markRead() {
    const channel = state.channels.get(state.current);
    if (!channel?.isMember || document.visibilityState !== 'visible') return;
    const had = channel.unreadCount || channel.mentionCount;
    const seq = Math.max(channel.lastSeq ?? 0, ...topLevel(storeOf(channel.channelId)).map(m => m.seq));
    channel.unreadCount = 0;
    channel.mentionCount = 0;
    if (had) renderSidebar();
    if (seq > (channel.readSeq ?? 0)) {
        channel.readSeq = seq;
        await api.markRead(channel.channelId, seq).catch(() => { channel.readSeq = 0; });
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Users, presence, typing
// ---------------------------------------------------------------------------------------------------------------

function userName(userId) {
    const user = state.users.get(userId);
    if (user) return user.displayName;
    wantUser(userId);
    return '…';
}

function wantUser(userId) {
    if (!userId || state.users.has(userId) || userFetches.has(userId)) return;
    userFetches.set(userId, api.user(userId).then(u => {
        state.users.set(userId, { displayName: u.displayName, presence: u.presence });
        refreshUserNodes();
        renderSidebar();
    }, () => undefined));
}

/** Author names and presence dots are marked with data attributes and updated in place. */
function refreshUserNodes() {
    for (const el of document.querySelectorAll('[data-user-name]')) {
        const user = state.users.get(el.dataset.userName);
        if (user && el.textContent !== user.displayName) el.textContent = user.displayName;
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

function presenceDot(userId) {
    const presence = state.users.get(userId)?.presence ?? 'unknown';
    return h('span', { class: 'presence', role: 'img', 'data-presence': userId, 'data-status': presence, title: presence, 'aria-label': presence });
}

function updatePresenceSubscription() {
    const wanted = new Set();
    for (const c of state.channels.values()) {
        if (c.kind === 'dm' || c.channelId === state.current) for (const u of state.members.get(c.channelId) ?? []) wanted.add(u);
    }
    wanted.delete(me());
    const same = wanted.size === state.presenceWanted.size && [...wanted].every(u => state.presenceWanted.has(u));
    state.presenceWanted = wanted;
    if (!same) realtime?.invoke('SubscribePresence', [...wanted].slice(0, 500));
}

function typingIn(channelId) {
    const map = state.typing.get(channelId);
    if (!map) return [];
    const now = Date.now();
    for (const [u, until] of map) if (until < now) map.delete(u);
    return [...map.keys()];
}

function renderTyping() {
    if (!ui.typing) return;
    const who = state.current ? typingIn(state.current).map(userName) : [];
    ui.typing.textContent = who.length === 0 ? ''
        : who.length === 1 ? `${who[0]} is typing…`
            : who.length === 2 ? `${who[0]} and ${who[1]} are typing…` : 'Several people are typing…';
}

setInterval(renderTyping, 1000);

// ---------------------------------------------------------------------------------------------------------------
// Realtime events
// ---------------------------------------------------------------------------------------------------------------

function startRealtime() {
    realtime = new Realtime(() => state.session?.token, onEvent, onConnectionState);
    realtime.start().then(() => {
        state.presenceWanted = new Set();
        updatePresenceSubscription();
    });
}

function onConnectionState(connection) {
    state.connection = connection;
    if (connection === 'resumed') {
        state.presenceWanted = new Set();
        updatePresenceSubscription();
        // A page that had seen no event had no position to resume from: it rereads what it shows.
        if (!realtime || realtime.position === 0) resync();
    }
    renderBanner();
}

function onEvent(e) {
    const channelId = e.channelId;
    const data = e.data ?? {};
    switch (e.type) {
        case 'message.posted': return onPosted(channelId, data, e.position);
        case 'message.edited': return changeMessage(channelId, data.seq, m => ({ text: data.text, editedAt: e.at }));
        case 'message.deleted': return onDeleted(channelId, data.seq);
        case 'reaction.added':
        case 'reaction.removed': return changeMessage(channelId, data.seq, m => ({ reactions: reacted(m.reactions ?? [], data.emoji, data.userId, e.type === 'reaction.added') }));
        case 'member.joined':
        case 'member.left':
            if (data.userId === me()) return refreshSoon(e.position);
            if (state.members.has(channelId)) loadMembers(channelId, e.position);
            return refreshSoon(e.position);
        case 'channel.created':
        case 'channel.updated':
        case 'channel.archived':
        case 'channel.unarchived':
            return refreshSoon(e.position);
        case 'read.marker': {
            const c = state.channels.get(data.channelId);
            if (c && data.seq >= (c.lastSeq ?? 0)) {
                c.unreadCount = 0;
                c.mentionCount = 0;
                renderSidebar();
            }
            return;
        }
        case 'presence.changed': {
            const user = state.users.get(data.userId);
            if (user) user.presence = data.status;
            else state.users.set(data.userId, { displayName: '…', presence: data.status }), userFetches.delete(data.userId);
            return refreshUserNodes();
        }
        case 'typing': {
            if (data.userId === me()) return;
            if (!state.typing.has(data.channelId)) state.typing.set(data.channelId, new Map());
            state.typing.get(data.channelId).set(data.userId, Date.now() + TYPING_SHOWN_MS);
            wantUser(data.userId);
            return renderTyping();
        }
        case 'resync.required':
            return resync();
        default:
            return undefined;
    }
}

function onPosted(channelId, data, position) {
    const store = storeOf(channelId);
    const known = store.all.has(data.seq);
    if (!known) {
        // My own post may arrive before its POST answers: the pending copy with the same text stops showing.
        if (data.userId === me()) {
            for (const p of store.pending.values()) {
                if (p.seq == null && p.state === 'sending' && p.text === data.text && (p.threadRootSeq ?? null) === (data.threadRootSeq ?? null)) {
                    p.seq = data.seq;
                    break;
                }
            }
        }
        upsert(channelId, data);
    }
    state.typing.get(channelId)?.delete(data.userId);
    renderTyping();
    if (data.threadRootSeq != null) {
        if (!known) changeMessage(channelId, data.threadRootSeq, m => ({ replyCount: (m.replyCount ?? 0) + 1, lastReplyAt: data.createdAt }));
        if (state.thread?.channelId === channelId && state.thread.rootSeq === data.threadRootSeq) renderThread();
        return;
    }
    const channel = state.channels.get(channelId);
    if (channel && data.seq > (channel.lastSeq ?? 0)) {
        channel.lastSeq = data.seq;
        const reading = channelId === state.current && document.visibilityState === 'visible';
        if (data.userId !== me() && !reading) {
            channel.unreadCount = (channel.unreadCount ?? 0) + 1;
            const mentions = data.mentions ?? {};
            if (mentions.channel || mentions.here || (mentions.userIds ?? []).includes(me())) channel.mentionCount = (channel.mentionCount ?? 0) + 1;
            renderSidebar();
        }
        if (reading) markReadSoon();
    } else if (!channel) {
        // A channel the page does not list yet (a DM just opened by someone else): its counts come from the list,
        // read once the read models include this message.
        refreshSoon(position);
    }
    if (channelId === state.current && store.loaded) renderMessages();
}

function onDeleted(channelId, seq) {
    const message = storeOf(channelId).all.get(seq);
    changeMessage(channelId, seq, () => ({ deleted: true, text: '', reactions: [] }));
    if (message?.threadRootSeq != null && !message.deleted) {
        changeMessage(channelId, message.threadRootSeq, m => ({ replyCount: Math.max(0, (m.replyCount ?? 1) - 1) }));
    }
}

function changeMessage(channelId, seq, change) {
    const store = state.stores.get(channelId);
    const message = store?.all.get(seq);
    if (!message) return;
    Object.assign(message, change(message));
    message.ver = (message.ver ?? 0) + 1;
    rerenderFor(channelId);
}

function rerenderFor(channelId) {
    if (channelId !== state.current) return;
    renderMessages();
    if (state.thread?.channelId === channelId) renderThread();
}

function reacted(reactions, emoji, userId, on) {
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

/** The hub could not replay what was missed: reread the channel list and the open channel's latest page. */
async function resync() {
    for (const [id, store] of state.stores) {
        if (id !== state.current) state.stores.delete(id);
        else { store.loaded = false; store.hasMore = true; }
    }
    await refreshChannels();
    if (state.current) {
        const store = storeOf(state.current);
        const page = await api.history(state.current, undefined, 50).catch(() => null);
        if (page) {
            for (const m of page.messages) upsert(state.current, m);
            store.loaded = true;
            store.hasMore = store.hasMore && page.hasMore;
        }
        renderMessages();
        if (state.thread) openThread(state.thread.channelId, state.thread.rootSeq, { focus: false });
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Sending, editing, reacting
// ---------------------------------------------------------------------------------------------------------------

/** `@Ada` becomes `<@ada's id>` when Ada is a member of the channel (longest names first). */
function withMentions(channelId, text) {
    const people = (state.members.get(channelId) ?? []).map(id => ({ id, name: state.users.get(id)?.displayName }))
        .filter(p => p.name).sort((a, b) => b.name.length - a.name.length);
    let out = text;
    for (const p of people) {
        const escaped = p.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        out = out.replace(new RegExp(`(^|\\s)@${escaped}(?![\\w])`, 'g'), `$1<@${p.id}>`);
    }
    return out;
}

async function send(channelId, text, threadRootSeq, retry) {
    const store = storeOf(channelId);
    const pending = retry ?? { clientMsgId: newId(), text: withMentions(channelId, text), threadRootSeq: threadRootSeq ?? null, createdAt: new Date().toISOString() };
    pending.state = 'sending';
    pending.error = null;
    store.pending.set(pending.clientMsgId, pending);
    rerenderPending(channelId, pending);
    try {
        const result = await api.post(channelId, pending.text, pending.clientMsgId, pending.threadRootSeq);
        store.pending.delete(pending.clientMsgId);
        if (!store.all.has(result.seq)) {
            upsert(channelId, {
                channelId, seq: result.seq, userId: me(), text: pending.text, createdAt: result.createdAt, editedAt: null,
                deleted: false, threadRootSeq: pending.threadRootSeq, replyCount: 0, lastReplyAt: null, reactions: [],
            });
            if (pending.threadRootSeq != null) changeMessage(channelId, pending.threadRootSeq, m => ({ replyCount: (m.replyCount ?? 0) + 1, lastReplyAt: result.createdAt }));
        }
        const channel = state.channels.get(channelId);
        if (channel && pending.threadRootSeq == null && result.seq > (channel.lastSeq ?? 0)) channel.lastSeq = result.seq;
    } catch (err) {
        pending.state = 'failed';
        pending.seq = null;
        pending.error = err.code === 'rate_limited' ? 'Too many messages, wait a moment.' : err.message;
    }
    rerenderPending(channelId, pending);
}

function rerenderPending(channelId, pending) {
    if (channelId !== state.current) return;
    if (pending.threadRootSeq == null) renderMessages('bottom');
    else renderThread();
}

async function act(promise, what) {
    try { await promise; } catch (err) { toast(`${what}: ${err.message}`); }
}

function toggleReaction(channelId, message, emoji) {
    const mine = (message.reactions ?? []).find(r => r.emoji === emoji)?.userIds?.includes(me());
    state.picker = null;
    changeMessage(channelId, message.seq, m => ({ reactions: reacted(m.reactions ?? [], emoji, me(), !mine) }));
    act(api.react(channelId, message.seq, emoji, !mine), 'Reaction not saved');
}

function startEdit(channelId, seq) {
    state.editing = `${channelId}:${seq}`;
    state.picker = state.confirmDelete = null;
    changeMessage(channelId, seq, () => ({}));
    document.querySelector(`[data-edit="${channelId}:${seq}"]`)?.focus();
}

function stopEdit(channelId, seq) {
    state.editing = null;
    changeMessage(channelId, seq, () => ({}));
}

// ---------------------------------------------------------------------------------------------------------------
// Shell
// ---------------------------------------------------------------------------------------------------------------

function buildShell() {
    ui.workspaceSelect = h('select', { id: 'workspace', 'aria-label': 'Workspace', onchange: onWorkspaceChosen });
    ui.search = h('input', { id: 'search', type: 'search', placeholder: 'Search messages (Ctrl+K)', 'aria-label': 'Search messages', autocomplete: 'off' });
    ui.searchResults = h('div', { id: 'search-results', class: 'search-results', hidden: true, role: 'region', 'aria-label': 'Search results' });
    ui.meBox = h('div', { class: 'me-box' });
    ui.banner = h('div', { id: 'banner', class: 'banner', role: 'status', 'aria-live': 'polite' });
    ui.sidebar = h('nav', { id: 'sidebar', class: 'sidebar', 'aria-label': 'Channels and direct messages' });
    ui.pane = h('main', { id: 'pane', class: 'pane' });
    ui.thread = h('aside', { id: 'thread', class: 'thread', 'aria-label': 'Thread', hidden: true });
    ui.toasts = h('div', { class: 'toasts', role: 'alert', 'aria-live': 'assertive' });
    ui.shell = h('div', { class: 'shell' },
        h('header', { class: 'topbar' },
            h('button', {
                class: 'icon menu', type: 'button', 'aria-label': 'Show channels', 'aria-controls': 'sidebar', 'aria-expanded': 'false',
                onclick: e => {
                    const open = ui.shell.classList.toggle('sidebar-open');
                    e.currentTarget.setAttribute('aria-expanded', String(open));
                    if (open) ui.sidebar.querySelector('button')?.focus();
                },
            }, '☰'),
            ui.workspaceSelect,
            h('form', { class: 'search', role: 'search', onsubmit: e => { e.preventDefault(); runSearch(); } }, ui.search, ui.searchResults),
            ui.meBox),
        ui.banner,
        h('div', { class: 'body' }, ui.sidebar, ui.pane, ui.thread),
        ui.toasts);
    document.getElementById('app').replaceChildren(ui.shell);
    renderTopbar();
    renderBanner();
    renderSidebar();
    renderPane();
}

function closeDrawer() {
    ui.shell?.classList.remove('sidebar-open');
    ui.shell?.querySelector('.menu')?.setAttribute('aria-expanded', 'false');
}

function onWorkspaceChosen(e) {
    const value = e.target.value;
    if (value === '__new') {
        e.target.value = state.wsId;
        return dialog('Create a workspace', [
            field('Workspace name', h('input', { id: 'new-ws-name', name: 'name', required: true, maxlength: 80 })),
        ], async form => {
            const created = await api.createWorkspace(form.name.value.trim());
            state.workspaces = withCreated(await api.workspaces(created.position).catch(() => state.workspaces), created, form.name.value.trim());
            await selectWorkspace(created.workspaceId);
            return () => ui.sidebar?.querySelector('button')?.focus();
        }, 'Create');
    }
    return selectWorkspace(value);
}

function renderTopbar() {
    if (!ui.shell) return;
    ui.workspaceSelect.replaceChildren(
        ...state.workspaces.map(w => h('option', { value: w.workspaceId, selected: w.workspaceId === state.wsId }, w.name)),
        h('option', { value: '__new' }, '+ New workspace…'));
    const focused = focusKey(ui.meBox);
    ui.meBox.replaceChildren(
        presenceDot(me()),
        h('span', { class: 'me-name', 'data-user-name': me() }, userName(me())),
        h('button', { type: 'button', class: 'small', onclick: logout }, 'Log out'));
    restoreFocus(ui.meBox, focused);
}

function renderBanner() {
    if (!ui.banner) return;
    clearTimeout(bannerTimer);
    const text = {
        connecting: 'Connecting…',
        reconnecting: 'Connection lost. Reconnecting…',
        resumed: 'Reconnected. Missed messages are filled in.',
    }[state.connection];
    ui.banner.dataset.state = state.connection;
    ui.banner.textContent = text ?? '';
    ui.banner.hidden = !text;
    if (state.connection === 'resumed') {
        bannerTimer = setTimeout(() => { if (state.connection === 'resumed') { state.connection = 'live'; renderBanner(); } }, 4000);
    }
}

function toast(text) {
    const el = h('p', { class: 'toast' }, text);
    ui.toasts?.append(el);
    setTimeout(() => el.remove(), 6000);
}

function renderSidebar() {
    if (!ui.sidebar) return;
    const focused = focusKey(ui.sidebar);
    const all = [...state.channels.values()].filter(c => c.isMember);
    const rooms = all.filter(c => c.kind !== 'dm').sort((a, b) => a.name.localeCompare(b.name));
    const dms = all.filter(c => c.kind === 'dm').sort((a, b) => channelLabel(a).localeCompare(channelLabel(b)));
    const item = c => {
        const unread = c.unreadCount ?? 0;
        const mentions = c.mentionCount ?? 0;
        const other = c.kind === 'dm' ? (state.members.get(c.channelId) ?? []).find(u => u !== me()) : null;
        const label = channelLabel(c);
        return h('li', null, h('button', {
            type: 'button',
            class: `channel${c.channelId === state.current ? ' active' : ''}${unread ? ' unread' : ''}`,
            'data-channel': c.channelId, 'data-name': c.kind === 'dm' ? label : c.name,
            'aria-current': c.channelId === state.current ? 'page' : false,
            onclick: () => openChannel(c.channelId),
        },
        c.kind === 'dm' ? (other ? presenceDot(other) : null) : h('span', { class: 'hash', 'aria-hidden': 'true' }, c.kind === 'private' ? '🔒' : '#'),
        h('span', { class: 'label' }, label, c.archived ? ' (archived)' : ''),
        mentions ? h('span', { class: 'badge mentions', 'data-testid': 'mention-badge', 'aria-label': `${mentions} mentions` }, `@${mentions}`) : null,
        unread ? h('span', { class: 'badge', 'data-testid': 'unread-badge', 'aria-label': `${unread} unread` }, String(unread)) : null));
    };
    ui.sidebar.replaceChildren(
        h('div', { class: 'section' },
            h('h2', null, 'Channels'),
            h('div', { class: 'section-actions' },
                h('button', { type: 'button', class: 'small', onclick: createChannelDialog }, '+ Create'),
                h('button', { type: 'button', class: 'small', onclick: browseDialog }, 'Browse'))),
        h('ul', { class: 'channels' }, rooms.map(item)),
        h('div', { class: 'section' },
            h('h2', null, 'Direct messages'),
            h('div', { class: 'section-actions' }, h('button', { type: 'button', class: 'small', onclick: dmDialog }, '+ New'))),
        h('ul', { class: 'channels' }, dms.map(item)),
        h('div', { class: 'sidebar-foot' },
            isAdmin() ? h('button', { type: 'button', class: 'small', onclick: addToWorkspaceDialog }, 'Add people to workspace') : null,
            userIdBox()));
    restoreFocus(ui.sidebar, focused);
}

function renderPane() {
    if (!ui.pane) return;
    const channel = state.channels.get(state.current);
    ui.header = h('div', { class: 'pane-header' });
    if (!channel) {
        ui.list = ui.composer = ui.typing = null;
        ui.pane.replaceChildren(h('div', { class: 'empty' },
            h('h1', null, 'Welcome'),
            h('p', null, 'Create a channel or browse the public ones to start.'),
            h('button', { type: 'button', class: 'primary', onclick: createChannelDialog }, 'Create a channel'), ' ',
            h('button', { type: 'button', onclick: browseDialog }, 'Browse channels')));
        return;
    }
    if (!channel.isMember) {
        ui.list = ui.composer = ui.typing = null;
        ui.pane.replaceChildren(ui.header, h('div', { class: 'empty' },
            h('p', null, `You are not a member of #${channel.name}.`),
            h('button', { type: 'button', class: 'primary', onclick: () => joinChannel(channel.channelId) }, `Join #${channel.name}`)));
        renderHeader();
        return;
    }
    ui.list = h('div', {
        id: 'messages', class: 'messages', role: 'log', tabindex: '0', 'aria-label': `Messages in ${channelLabel(channel)}`,
        onscroll: () => { if (ui.list.scrollTop < 200) loadOlder(channel.channelId); },
    });
    ui.typing = h('div', { id: 'typing', class: 'typing', 'aria-live': 'polite' });
    ui.composer = composerInput('composer', `Message ${channel.kind === 'dm' ? channelLabel(channel) : `#${channel.name}`}`, channel, null);
    ui.pane.replaceChildren(ui.header, ui.list, ui.typing, composerForm(ui.composer, channel, null));
    renderHeader();
    renderMessages('bottom');
    renderTyping();
}

function composerInput(id, placeholder, channel, rootSeq) {
    return h('textarea', {
        id, rows: 1, placeholder, 'aria-label': placeholder, disabled: channel.archived,
        onkeydown: e => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                e.target.form.requestSubmit();
            } else if (e.key === 'ArrowUp' && !e.target.value && rootSeq == null) {
                const mine = topLevel(storeOf(channel.channelId)).filter(m => m.userId === me() && !m.deleted).at(-1);
                if (mine) { e.preventDefault(); startEdit(channel.channelId, mine.seq); }
            }
        },
        oninput: () => {
            const now = Date.now();
            if (now - lastTypingSent > TYPING_SENT_EVERY_MS) {
                lastTypingSent = now;
                realtime?.invoke('Typing', channel.channelId);
            }
        },
    });
}

function composerForm(input, channel, rootSeq) {
    return h('form', {
        class: 'composer',
        onsubmit: e => {
            e.preventDefault();
            const text = input.value.trim();
            if (!text) return;
            input.value = '';
            send(channel.channelId, text, rootSeq);
        },
    }, input, h('button', { type: 'submit', class: 'primary', disabled: channel.archived }, 'Send'));
}

function renderHeader() {
    const channel = state.channels.get(state.current);
    if (!ui.header || !channel) return;
    const members = state.members.get(channel.channelId) ?? [];
    const shown = members.filter(u => u !== me()).slice(0, 5);
    const focused = focusKey(ui.header);
    ui.header.replaceChildren(
        h('div', { class: 'title' },
            h('h1', { id: 'channel-title' }, channel.kind === 'dm' ? channelLabel(channel) : `${channel.kind === 'private' ? '🔒 ' : '#'}${channel.name}`),
            channel.topic ? h('p', { class: 'topic' }, channel.topic) : null),
        h('div', { class: 'people', 'aria-label': 'Members' },
            shown.map(u => h('span', { class: 'person' }, presenceDot(u), h('span', { 'data-user-name': u }, userName(u)))),
            h('span', { class: 'count' }, plural(channel.memberCount ?? members.length, 'member'))),
        channel.isMember && channel.kind !== 'dm' ? h('div', { class: 'header-actions' },
            h('button', { type: 'button', class: 'small', onclick: inviteDialog }, 'Invite'),
            h('button', { type: 'button', class: 'small', onclick: () => leaveChannel(channel.channelId) }, 'Leave')) : null);
    restoreFocus(ui.header, focused);
}

/** What has the focus inside `container` (a channel button, or a button by its text), so a re-render can give it back. */
function focusKey(container) {
    const el = document.activeElement;
    if (!el || el === document.body || !container.contains(el)) return null;
    return el.dataset.channel ? { channel: el.dataset.channel } : { text: el.textContent };
}

function restoreFocus(container, key) {
    if (!key || container.contains(document.activeElement)) return;
    const target = key.channel
        ? container.querySelector(`[data-channel="${key.channel}"]`)
        : [...container.querySelectorAll('button')].find(b => b.textContent === key.text);
    target?.focus();
}

async function joinChannel(channelId) {
    let joined = null;
    await act(api.join(channelId).then(r => { joined = r; }), 'Could not join');
    await refreshChannels(joined?.position);
    await openChannel(channelId);
}

async function leaveChannel(channelId) {
    let left = null;
    await act(api.leave(channelId).then(r => { left = r; }), 'Could not leave');
    state.stores.delete(channelId);
    state.current = null;
    await refreshChannels(left?.position);
    const next = [...state.channels.values()].find(c => c.isMember)?.channelId;
    if (next) await openChannel(next); else renderPane();
}

// ---------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------

function renderMessages(mode) {
    const list = ui.list;
    const channel = state.channels.get(state.current);
    if (!list || !channel) return;
    const store = storeOf(channel.channelId);
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const previousHeight = list.scrollHeight;
    const previousTop = list.scrollTop;
    const nodes = [];
    if (store.loaded) {
        nodes.push(store.hasMore
            ? cached(`older:${channel.channelId}`, 0, () => h('p', { class: 'older' }, h('button', { type: 'button', class: 'small', onclick: () => loadOlder(channel.channelId) }, 'Load older messages')))
            : cached(`start:${channel.channelId}`, 0, () => h('p', { class: 'start' }, `This is the very beginning of ${channel.kind === 'dm' ? 'your conversation' : `#${channel.name}`}.`)));
    } else {
        nodes.push(cached(`loading:${channel.channelId}`, 0, () => h('p', { class: 'older' }, 'Loading…')));
    }
    let lastDay = null;
    for (const m of topLevel(store)) {
        const day = dayKey(m.createdAt);
        if (day !== lastDay) {
            lastDay = day;
            nodes.push(cached(`day:${channel.channelId}:${day}`, 0, () => h('div', { class: 'day', role: 'separator' }, h('span', null, dayLabel(m.createdAt)))));
        }
        nodes.push(messageNode('main', channel.channelId, m));
    }
    for (const p of store.pending.values()) {
        if (p.threadRootSeq == null && !(p.seq != null && store.all.has(p.seq))) nodes.push(pendingNode(channel.channelId, p));
    }
    reconcile(list, nodes);
    if (mode === 'prepend') list.scrollTop = previousTop + (list.scrollHeight - previousHeight);
    else if (mode === 'bottom' || atBottom) list.scrollTop = list.scrollHeight;
    // A first page shorter than the pane cannot be scrolled up: fetch more right away.
    if (store.loaded && store.hasMore && !store.loading && list.scrollHeight <= list.clientHeight) loadOlder(channel.channelId);
}

function cached(key, ver, build) {
    const hit = nodeCache.get(key);
    if (hit && hit.ver === ver) return hit.el;
    const el = build();
    nodeCache.set(key, { el, ver });
    return el;
}

function messageNode(scope, channelId, m) {
    const key = `${channelId}:${m.seq}`;
    const flags = `${state.editing === key}|${state.picker === `${scope}:${key}`}|${state.confirmDelete === key}`;
    return cached(`${scope}:${key}`, `${m.ver}|${flags}`, () => buildMessage(scope, channelId, m));
}

function buildMessage(scope, channelId, m) {
    const key = `${channelId}:${m.seq}`;
    const mine = m.userId === me();
    const editing = state.editing === key && scope === 'main' || (state.editing === key && scope === 'thread' && m.threadRootSeq != null);
    let body;
    if (m.deleted) {
        body = h('div', { class: 'text deleted' }, 'This message was deleted.');
    } else if (editing) {
        const input = h('textarea', {
            class: 'edit', 'data-edit': key, 'aria-label': 'Edit message', value: m.text,
            onkeydown: e => {
                if (e.key === 'Escape') { e.preventDefault(); stopEdit(channelId, m.seq); }
                if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); e.target.form.requestSubmit(); }
            },
        });
        body = h('form', {
            class: 'edit-form',
            onsubmit: e => {
                e.preventDefault();
                const text = input.value.trim();
                state.editing = null;
                if (text && text !== m.text) {
                    changeMessage(channelId, m.seq, () => ({ text: withMentions(channelId, text), editedAt: new Date().toISOString() }));
                    act(api.edit(channelId, m.seq, withMentions(channelId, text)), 'Edit not saved');
                } else {
                    stopEdit(channelId, m.seq);
                }
            },
        }, input, h('div', { class: 'edit-actions' },
            h('button', { type: 'submit', class: 'small primary' }, 'Save'),
            h('button', { type: 'button', class: 'small', onclick: () => stopEdit(channelId, m.seq) }, 'Cancel'),
            h('small', null, 'Enter to save, Escape to cancel')));
        setTimeout(() => { input.focus(); input.setSelectionRange(input.value.length, input.value.length); });
    } else {
        body = h('div', { class: 'text' }, renderText(m.text));
    }
    const reactions = (m.reactions ?? []).length && !m.deleted ? h('div', { class: 'reactions' }, m.reactions.map(r => h('button', {
        type: 'button', class: 'reaction', 'aria-pressed': String(r.userIds?.includes(me()) ?? false),
        'aria-label': `${r.emoji} ${r.count}, reacted by ${(r.userIds ?? []).map(userName).join(', ')}`,
        onclick: () => toggleReaction(channelId, m, r.emoji),
    }, `${r.emoji} ${r.count}`))) : null;
    const picker = state.picker === `${scope}:${key}` ? h('div', { class: 'picker', role: 'group', 'aria-label': 'Pick a reaction' },
        EMOJI.map(emoji => h('button', { type: 'button', class: 'emoji', 'aria-label': `React ${emoji}`, onclick: () => toggleReaction(channelId, m, emoji) }, emoji))) : null;
    const replies = scope === 'main' && m.replyCount > 0 ? h('button', {
        type: 'button', class: 'replies link', onclick: () => openThread(channelId, m.seq),
    }, m.replyCount === 1 ? '1 reply' : `${m.replyCount} replies`) : null;
    const confirming = state.confirmDelete === key;
    const actions = m.deleted ? null : h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Message actions' },
        h('button', { type: 'button', class: 'small', 'aria-label': 'Add reaction', onclick: () => { state.picker = state.picker === `${scope}:${key}` ? null : `${scope}:${key}`; rerenderFor(channelId); } }, '☺'),
        scope === 'main' ? h('button', { type: 'button', class: 'small', onclick: () => openThread(channelId, m.seq) }, 'Reply') : null,
        mine ? h('button', { type: 'button', class: 'small', onclick: () => startEdit(channelId, m.seq) }, 'Edit') : null,
        mine ? h('button', {
            type: 'button', class: `small${confirming ? ' danger' : ''}`,
            onclick: () => {
                if (!confirming) { state.confirmDelete = key; return rerenderFor(channelId); }
                state.confirmDelete = null;
                changeMessage(channelId, m.seq, () => ({ deleted: true, text: '', reactions: [] }));
                return act(api.remove(channelId, m.seq), 'Not deleted');
            },
        }, confirming ? 'Really delete?' : 'Delete') : null);
    return h('article', {
        class: `msg${mine ? ' mine' : ''}`, id: `${scope === 'main' ? 'm' : 't'}-${channelId}-${m.seq}`, tabindex: '-1',
        'data-seq': m.seq, 'data-testid': 'message',
    },
    h('div', { class: 'avatar', 'aria-hidden': 'true', 'data-user-initial': m.userId }, initial(m.userId), presenceDot(m.userId)),
    h('div', { class: 'content' },
        h('div', { class: 'meta' },
            h('span', { class: 'author', 'data-user-name': m.userId }, userName(m.userId)),
            h('time', { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString() }, time(m.createdAt)),
            m.editedAt && !m.deleted ? h('span', { class: 'edited' }, '(edited)') : null),
        body, reactions, picker, replies),
    actions);
}

function plural(n, word) {
    return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function initial(userId) {
    const name = state.users.get(userId)?.displayName ?? '?';
    return [...name][0]?.toUpperCase() ?? '?';
}

function pendingNode(channelId, p) {
    return cached(`pending:${p.clientMsgId}`, `${p.state}|${p.error}`, () => h('article', {
        class: `msg mine pending ${p.state}`, 'data-client-msg-id': p.clientMsgId, 'data-testid': 'pending-message',
    },
    h('div', { class: 'avatar', 'aria-hidden': 'true' }, initial(me())),
    h('div', { class: 'content' },
        h('div', { class: 'meta' }, h('span', { class: 'author' }, userName(me())),
            h('span', { class: 'status' }, p.state === 'failed' ? 'Not sent' : 'Sending…')),
        h('div', { class: 'text' }, renderText(p.text)),
        p.state === 'failed' ? h('div', { class: 'failed-line', role: 'alert' }, p.error ? `${p.error} ` : '',
            h('button', { type: 'button', class: 'small primary', onclick: () => send(channelId, p.text, p.threadRootSeq, p) }, 'Retry'),
            h('button', {
                type: 'button', class: 'small', onclick: () => { storeOf(channelId).pending.delete(p.clientMsgId); rerenderPending(channelId, p); },
            }, 'Discard')) : null)));
}

function renderText(text) {
    const parts = String(text ?? '').split(/(<@[A-Za-z0-9_-]+>|@channel\b|@here\b)/);
    return parts.map(part => {
        const mention = /^<@([A-Za-z0-9_-]+)>$/.exec(part);
        if (mention) return h('span', { class: `mention${mention[1] === me() ? ' me' : ''}`, 'data-user-name': mention[1] }, userName(mention[1]));
        if (part === '@channel' || part === '@here') return h('span', { class: 'mention me' }, part);
        return part;
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Thread panel
// ---------------------------------------------------------------------------------------------------------------

async function openThread(channelId, rootSeq, { focus = true } = {}) {
    state.thread = { channelId, rootSeq, loaded: false };
    renderThread();
    try {
        const t = await api.thread(channelId, rootSeq);
        upsert(channelId, t.root);
        for (const r of t.replies) upsert(channelId, r);
        if (state.thread?.rootSeq === rootSeq) state.thread.loaded = true;
    } catch (err) {
        toast(`Thread not loaded: ${err.message}`);
    }
    renderThread();
    if (focus) ui.threadComposer?.focus();
}

function closeThread() {
    state.thread = null;
    renderThread();
    ui.composer?.focus();
}

function renderThread() {
    const t = state.thread;
    if (!ui.thread) return;
    ui.shell.classList.toggle('thread-open', !!t);
    if (!t) {
        ui.thread.hidden = true;
        ui.thread.replaceChildren();
        ui.threadComposer = null;
        ui.threadKey = null;
        return;
    }
    ui.thread.hidden = false;
    const channel = state.channels.get(t.channelId);
    const store = storeOf(t.channelId);
    const root = store.all.get(t.rootSeq);
    const key = `${t.channelId}:${t.rootSeq}`;
    if (ui.threadKey !== key) {
        ui.threadKey = key;
        ui.threadList = h('div', { class: 'thread-list', role: 'log', 'aria-label': 'Replies' });
        ui.threadComposer = composerInput('thread-composer', 'Reply…', channel, t.rootSeq);
        ui.thread.replaceChildren(
            h('div', { class: 'thread-header' }, h('h2', null, 'Thread'),
                h('button', { type: 'button', class: 'icon', 'aria-label': 'Close thread', onclick: closeThread }, '✕')),
            ui.threadList,
            composerForm(ui.threadComposer, channel, t.rootSeq));
    }
    const list = ui.threadList;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const replies = [...store.all.values()].filter(m => m.threadRootSeq === t.rootSeq).sort((a, b) => a.seq - b.seq);
    const nodes = [];
    if (root) nodes.push(messageNode('thread', t.channelId, root));
    nodes.push(cached(`thread-sep:${key}:${replies.length}`, 0, () => h('div', { class: 'day' }, h('span', null, `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`))));
    for (const r of replies) nodes.push(messageNode('thread', t.channelId, r));
    for (const p of store.pending.values()) {
        if (p.threadRootSeq === t.rootSeq && !(p.seq != null && store.all.has(p.seq))) nodes.push(pendingNode(t.channelId, p));
    }
    reconcile(list, nodes);
    if (atBottom) list.scrollTop = list.scrollHeight;
}

// ---------------------------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------------------------

async function runSearch() {
    const q = ui.search.value.trim();
    if (!q) { ui.searchResults.hidden = true; return; }
    // Search what the page has seen (its own writes and every event received); if the index lags more than the API's
    // bounded wait (503 stale), search what is indexed so far.
    const seen = Math.max(api.position, realtime?.position ?? 0);
    let page;
    try {
        page = await api.search(state.wsId, q, seen).catch(err => {
            if (err.code === 'stale') return api.search(state.wsId, q);
            throw err;
        });
    } catch (err) {
        return toast(`Search failed: ${err.message}`);
    }
    const close = h('button', { type: 'button', class: 'icon', 'aria-label': 'Close search results', onclick: closeSearch }, '✕');
    ui.searchResults.replaceChildren(
        h('div', { class: 'results-head' }, h('strong', null, page.results.length ? `Results for “${q}”` : `No results for “${q}”`), close),
        h('ul', null, page.results.map(r => {
            const c = state.channels.get(r.channelId);
            return h('li', null, h('button', {
                type: 'button', class: 'result', 'data-testid': 'search-result',
                onclick: () => { closeSearch(); jumpTo(r.channelId, r.seq); },
            },
            h('span', { class: 'result-meta' }, c ? (c.kind === 'dm' ? channelLabel(c) : `#${c.name}`) : 'channel', ' · ',
                h('span', { 'data-user-name': r.userId }, userName(r.userId)), ' · ', time(r.createdAt)),
            h('span', { class: 'result-text' }, highlightNodes(r.highlight || r.text))));
        })));
    ui.searchResults.hidden = false;
    ui.searchResults.querySelector('button.result')?.focus();
}

function closeSearch() {
    ui.searchResults.hidden = true;
}

async function jumpTo(channelId, seq) {
    let message;
    try { message = await api.message(channelId, seq); } catch (err) { return toast(`Message not found: ${err.message}`); }
    const rootSeq = message.threadRootSeq ?? seq;
    if (state.current !== channelId) await openChannel(channelId, { focus: false });
    const store = storeOf(channelId);
    for (let pages = 0; !store.all.has(rootSeq) && store.hasMore && pages < 40; pages++) await loadOlder(channelId);
    renderMessages();
    if (message.threadRootSeq != null) {
        await openThread(channelId, rootSeq, { focus: false });
        flash(`t-${channelId}-${seq}`);
    } else {
        flash(`m-${channelId}-${seq}`);
    }
}

function flash(id) {
    const el = document.getElementById(id);
    if (!el) return toast('That message is too far back to show.');
    el.scrollIntoView({ block: 'center' });
    el.classList.remove('flash');
    void el.offsetWidth;
    el.classList.add('flash');
    el.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Dialogs
// ---------------------------------------------------------------------------------------------------------------

function dialog(title, fields, onSubmit, submitLabel = 'OK') {
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
    const el = h('dialog', { 'aria-labelledby': 'dialog-title' });
    const form = h('form', {
        onsubmit: async e => {
            e.preventDefault();
            submit.disabled = true;
            error.textContent = '';
            try {
                // onSubmit may answer what to do once the dialog is gone (closing gives the focus back to its opener).
                const after = await onSubmit(form);
                el.close();
                if (typeof after === 'function') after();
            } catch (err) {
                error.textContent = err.code === 'name_taken' ? 'That name is taken.' : err.code === 'not_found' ? 'No such user in this workspace.' : err.message;
            } finally {
                submit.disabled = false;
            }
        },
    }, h('h2', { id: 'dialog-title' }, title), fields, error,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', onclick: () => el.close() }, 'Cancel'), submit));
    el.append(form);
    el.addEventListener('close', () => el.remove());
    document.body.append(el);
    el.showModal();
    return el;
}

function createChannelDialog() {
    dialog('Create a channel', [
        field('Name', h('input', { id: 'new-channel-name', name: 'name', required: true, maxlength: 80, pattern: '[a-z0-9_\\-]+', placeholder: 'e.g. launch' }),
            'Lowercase letters, digits, - and _.'),
        field('Topic (optional)', h('input', { id: 'new-channel-topic', name: 'topic', maxlength: 250 })),
        h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'private' }), ' Private (only invited people can see it)'),
    ], async form => {
        const created = await api.createChannel(state.wsId, form.name.value.trim(), form.private.checked, form.topic.value.trim());
        await refreshChannels(created.position);
        await openChannel(created.channelId);
        return () => ui.composer?.focus();
    }, 'Create');
}

function browseDialog() {
    const load = async list => {
        await refreshChannels();
        const rooms = [...state.channels.values()].filter(c => c.kind === 'public').sort((a, b) => a.name.localeCompare(b.name));
        list.replaceChildren(...(rooms.length ? rooms.map(c => h('li', null,
            h('span', { class: 'label' }, `#${c.name}`), c.topic ? h('small', null, ` ${c.topic}`) : null,
            h('small', null, ` · ${c.memberCount} members`),
            c.isMember
                ? h('button', { type: 'button', class: 'small', onclick: () => { el.close(); openChannel(c.channelId); } }, 'Open')
                : h('button', { type: 'button', class: 'small primary', onclick: async () => { el.close(); await joinChannel(c.channelId); } }, 'Join')))
            : [h('li', null, 'No public channels yet.')]));
    };
    const list = h('ul', { class: 'browse' }, h('li', null, 'Loading…'));
    const el = dialog('Public channels', [list], async () => undefined, 'Done');
    load(list);
}

function userIdField(id, label) {
    const input = h('input', { id, name: 'userId', required: true, autocomplete: 'off', list: `${id}-known` });
    const known = [...state.users.entries()].filter(([u]) => u !== me());
    return [field(label, input, 'Ask them for the user id shown at the bottom of their sidebar.'),
        h('datalist', { id: `${id}-known` }, known.map(([u, v]) => h('option', { value: u }, v.displayName)))];
}

function inviteDialog() {
    const channel = state.channels.get(state.current);
    dialog(`Invite to #${channel.name}`, userIdField('invite-user', 'User id'), async form => {
        const invited = await api.invite(channel.channelId, form.userId.value.trim());
        loadMembers(channel.channelId, invited.position);
        toast('Invited.');
    }, 'Invite');
}

function addToWorkspaceDialog() {
    dialog('Add someone to the workspace', userIdField('add-user', 'User id'), async form => {
        await api.addWorkspaceMember(state.wsId, form.userId.value.trim());
        toast('Added to the workspace.');
    }, 'Add');
}

function dmDialog() {
    dialog('New direct message', userIdField('dm-user', 'User id (a member of this workspace)'), async form => {
        const opened = await api.openDm(state.wsId, [form.userId.value.trim()]);
        await refreshChannels(opened.position);
        await loadMembers(opened.channelId, opened.position);
        await openChannel(opened.channelId);
        return () => ui.composer?.focus();
    }, 'Open');
}

// ---------------------------------------------------------------------------------------------------------------
// Keyboard and page events
// ---------------------------------------------------------------------------------------------------------------

document.addEventListener('keydown', e => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k' && ui.search) {
        e.preventDefault();
        ui.search.focus();
        ui.search.select();
    } else if (e.altKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp') && ui.sidebar) {
        e.preventDefault();
        const ids = [...ui.sidebar.querySelectorAll('[data-channel]')].map(b => b.dataset.channel);
        const i = ids.indexOf(state.current);
        const next = ids[(i + (e.key === 'ArrowDown' ? 1 : -1) + ids.length) % ids.length];
        if (next) openChannel(next);
    } else if (e.key === 'Escape' && !document.querySelector('dialog[open]')) {
        if (ui.searchResults && !ui.searchResults.hidden) closeSearch();
        else if (state.picker) { const [, ch] = state.picker.split(':'); state.picker = null; rerenderFor(ch); }
        else if (state.thread && !e.target.closest?.('.edit-form')) closeThread();
        else closeDrawer();
    }
});

document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') markReadSoon(); });

boot();
