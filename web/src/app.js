// EventSourcedChat web client: one page, plain DOM, the public REST API and the SignalR hub only.
// Entry point: session, workspaces, the shell (top bar, sidebar, channel header), search, keyboard shortcuts. Nothing
// imports it: it subscribes the shell's views to the state's changes (onChange) and passes its actions to the dialogs.
import { h, morph, highlightNodes, time, field } from './dom.js';
import { SESSION_KEY, WORKSPACE_KEY, api, state, ui, me, withCreated, channelLabel, storeOf, userName, presenceDot, toast, plural, onChange, rememberUser, statusBadge } from './store.js';
import { refreshChannels, loadMembers } from './channels.js';
import { renderTyping, startRealtime } from './events.js';
import { loadOlder, markReadSoon, markRead, rerenderFor, act, composerInput, composerForm, renderMessages, openThread, closeThread, renderThread } from './messages.js';
import { togglePins, loadPins, onPinsChanged, renderPins } from './pins.js';
import { installProfileCards, openProfileEditor } from './profiles.js';
import { avatarNode, installAvatars } from './avatars.js';
import { dialog, createChannelDialog, browseDialog, inviteDialog, addToWorkspaceDialog, dmDialog } from './dialogs.js';
import { openDirectory } from './directory.js';
import { openChannelSettings } from './channel-settings.js';
import { rememberInviteLink, inviteNote, acceptPendingInvite, openInvites } from './invites.js';
import { sidebarEntries, settingsButtons, resetPasswordPage, forgotPasswordLink } from './entries.js';

let bannerTimer = null;

onChange('signed-out', () => logout());
onChange('channels', () => { renderSidebar(); renderHeader(); });
onChange('members', channelId => { renderSidebar(); if (channelId === state.current) renderHeader(); });
onChange('unread', () => renderSidebar());
onChange('connection', () => renderBanner());
onChange('workspaces', () => renderTopbar());
onChange('pins', (channelId, position) => onPinsChanged(channelId, position));

function loadSession() {
    try { return JSON.parse(localStorage.getItem(SESSION_KEY)); } catch { return null; }
}

async function boot() {
    if (resetPasswordPage()) return;
    rememberInviteLink();
    state.session = loadSession();
    if (!state.session?.token) return renderAuth();
    api.token = state.session.token;
    if (!state.users.has(me())) {
        // Right after sign-up the user read model may lag a moment: a 404 is retried for a few seconds.
        for (let attempt = 0; ; attempt++) {
            try {
                const user = await api.user(me());
                rememberUser({ ...user, presence: 'active' });
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

// The "Log out" buttons: the token is revoked on the server (it answers 401 everywhere afterwards), then the session ends
// here. A token the server already refuses only ends the session here (logout, called on any 401).
async function signOut() {
    try { await api.logout(); } catch { /* already refused, or the server is away: the session ends here anyway */ }
    await logout();
}

async function logout() {
    localStorage.removeItem(SESSION_KEY);
    const rt = state.realtime;
    state.realtime = null;
    if (rt) await rt.stop().catch(() => undefined);
    location.reload();
}

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
    h('h1', { id: 'auth-title' }, mode === 'login' ? 'Log in to EventSourcedChat' : 'Create your account'), inviteNote(),
    mode === 'signup' ? field('Display name', name) : null,
    field('Email', email),
    field(mode === 'signup' ? 'Password (8 characters or more)' : 'Password', password),
    error,
    submit,
    mode === 'login' ? forgotPasswordLink(() => renderAuth('login')) : null,
    h('p', { class: 'switch' }, mode === 'login' ? 'New here? ' : 'Have an account? ',
        h('button', { type: 'button', class: 'link', onclick: () => renderAuth(mode === 'login' ? 'signup' : 'login') },
            mode === 'login' ? 'Create an account' : 'Log in')));
    document.getElementById('app').replaceChildren(h('main', { class: 'center' }, form));
    (mode === 'signup' ? name : email).focus();
}

function renderFatal(err) {
    document.getElementById('app').replaceChildren(h('main', { class: 'center' },
        h('div', { class: 'card' }, h('h1', null, 'Something went wrong'), h('p', null, err.message),
            h('button', { class: 'primary', onclick: () => location.reload() }, 'Reload'))));
}

async function loadWorkspaces() {
    const joined = await acceptPendingInvite(); // an invite link the person followed
    try {
        state.workspaces = await api.workspaces(joined?.position);
    } catch (err) {
        return renderFatal(err);
    }
    if (state.workspaces.length === 0) return renderWorkspacePicker();
    const saved = localStorage.getItem(WORKSPACE_KEY);
    const ws = state.workspaces.find(w => w.workspaceId === (joined?.workspaceId ?? saved)) ?? state.workspaces[0];
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
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Log out'));
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

function userIdBox() {
    const code = h('code', { id: 'my-user-id', 'data-testid': 'my-user-id' }, me());
    return h('div', { class: 'user-id' }, h('span', null, 'Your user id: '), code,
        h('button', {
            type: 'button', class: 'small', onclick: e => {
                navigator.clipboard?.writeText(me()).then(() => { e.target.textContent = 'Copied'; }, () => undefined);
            },
        }, 'Copy'));
}

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
    if (state.pinsOpen && channel?.isMember) loadPins(channelId);
    renderPins();
    if (channel?.isMember) {
        const store = storeOf(channelId);
        if (!store.loaded) await loadOlder(channelId);
        renderMessages('bottom');
        loadMembers(channelId);
        markRead();
        if (focus) ui.composer?.focus();
    }
}

function buildShell() {
    ui.workspaceSelect = h('select', { id: 'workspace', 'aria-label': 'Workspace', onchange: onWorkspaceChosen });
    ui.search = h('input', { id: 'search', type: 'search', placeholder: 'Search messages (Ctrl+K)', 'aria-label': 'Search messages', autocomplete: 'off' });
    ui.searchResults = h('div', { id: 'search-results', class: 'search-results', hidden: true, role: 'region', 'aria-label': 'Search results' });
    ui.meBox = h('div', { class: 'me-box' });
    installProfileCards(document.body);
    installAvatars(document.body);
    ui.banner = h('div', { id: 'banner', class: 'banner', role: 'status', 'aria-live': 'polite' });
    ui.sidebar = h('nav', { id: 'sidebar', class: 'sidebar', 'aria-label': 'Channels and direct messages' });
    ui.pane = h('main', { id: 'pane', class: 'pane' });
    ui.thread = h('aside', { id: 'thread', class: 'thread', 'aria-label': 'Thread', hidden: true });
    ui.pins = h('aside', { id: 'pins', class: 'thread pins', 'aria-label': 'Pinned messages', hidden: true });
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
        h('div', { class: 'body' }, ui.sidebar, ui.pane, ui.thread, ui.pins),
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
    morph(ui.meBox, [
        presenceDot(me()),
        h('span', { class: 'me-name', 'data-user-name': me(), 'data-profile': me(), role: 'button', tabindex: '0' }, userName(me())),
        statusBadge(me()),
        h('button', { type: 'button', class: 'small', onclick: openProfileEditor }, 'Edit profile'),
        h('button', { type: 'button', class: 'small', onclick: signOut }, 'Log out')]);
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

function renderSidebar() {
    if (!ui.sidebar) return;
    const focused = focusKey(ui.sidebar);
    const all = [...state.channels.values()].filter(c => c.isMember);
    const rooms = all.filter(c => c.kind !== 'dm').sort((a, b) => a.name.localeCompare(b.name));
    const dms = all.filter(c => c.kind === 'dm').sort((a, b) => channelLabel(a).localeCompare(channelLabel(b)));
    const item = c => {
        const unread = c.unreadCount ?? 0;
        const mentions = c.mentionCount ?? 0;
        const others = c.kind === 'dm' ? (state.members.get(c.channelId) ?? []).filter(u => u !== me()) : [];
        const other = others.length === 1 ? others[0] : null; // a group DM shows no one's presence
        const label = channelLabel(c);
        return h('li', { 'data-key': c.channelId }, h('button', {
            type: 'button',
            class: `channel${c.channelId === state.current ? ' active' : ''}${unread ? ' unread' : ''}`,
            'data-channel': c.channelId, 'data-name': c.kind === 'dm' ? label : c.name,
            'aria-current': c.channelId === state.current ? 'page' : false,
            onclick: () => openChannel(c.channelId),
        },
        c.kind === 'dm' ? (other ? presenceDot(other) : others.length > 1 ? h('span', { class: 'group-count', 'aria-hidden': 'true' }, String(others.length + 1)) : null) : h('span', { class: 'hash', 'aria-hidden': 'true' }, c.kind === 'private' ? '🔒' : '#'),
        h('span', { class: 'label' }, label, c.archived ? ' (archived)' : ''),
        mentions ? h('span', { class: 'badge mentions', 'data-testid': 'mention-badge', 'aria-label': `${mentions} mentions` }, `@${mentions}`) : null,
        unread ? h('span', { class: 'badge', 'data-testid': 'unread-badge', 'aria-label': `${unread} unread` }, String(unread)) : null));
    };
    // Morphed, not replaced: unread counts, members and presence re-render it while people click in it.
    morph(ui.sidebar, [
        sidebarEntries(openChannel),
        h('div', { class: 'section' },
            h('h2', null, 'Channels'),
            h('div', { class: 'section-actions' },
                h('button', { type: 'button', class: 'small', onclick: () => createChannelDialog(openChannel) }, '+ Create'),
                h('button', { type: 'button', class: 'small', onclick: () => browseDialog(openChannel, joinChannel) }, 'Browse'))),
        h('ul', { class: 'channels' }, rooms.map(item)),
        h('div', { class: 'section' },
            h('h2', null, 'Direct messages'),
            h('div', { class: 'section-actions' }, h('button', { type: 'button', class: 'small', onclick: () => dmDialog(openChannel) }, '+ New'))),
        h('ul', { class: 'channels' }, dms.map(item)),
        h('div', { class: 'sidebar-foot' },
            h('button', { type: 'button', class: 'small', onclick: () => openDirectory(openChannel) }, 'People'),
            isAdmin() ? h('button', { type: 'button', class: 'small', onclick: openInvites }, 'Invite people') : null,
            isAdmin() ? h('button', { type: 'button', class: 'small', onclick: addToWorkspaceDialog }, 'Add people to workspace') : null,
            settingsButtons(),
            userIdBox())]);
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
            h('button', { type: 'button', class: 'primary', onclick: () => createChannelDialog(openChannel) }, 'Create a channel'), ' ',
            h('button', { type: 'button', onclick: () => browseDialog(openChannel, joinChannel) }, 'Browse channels')));
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

function renderHeader() {
    const channel = state.channels.get(state.current);
    if (!ui.header || !channel) return;
    const members = state.members.get(channel.channelId) ?? [];
    const shown = members.filter(u => u !== me()).slice(0, 5);
    const focused = focusKey(ui.header);
    morph(ui.header, [
        h('div', { class: 'title' },
            h('h1', { id: 'channel-title' }, channel.kind === 'dm' ? channelLabel(channel) : `${channel.kind === 'private' ? '🔒 ' : '#'}${channel.name}`),
            channel.topic ? h('p', { class: 'topic' }, channel.topic) : null),
        h('div', { class: 'people', 'aria-label': 'Members' },
            shown.map(u => h('span', { class: 'person' }, avatarNode(u, 32), presenceDot(u), h('span', { 'data-user-name': u }, userName(u)))),
            h('span', { class: 'count' }, plural(channel.memberCount ?? members.length, 'member'))),
        channel.isMember ? h('div', { class: 'header-actions' },
            h('button', {
                type: 'button', class: 'small', 'aria-pressed': String(state.pinsOpen), 'aria-controls': 'pins',
                onclick: () => { togglePins(); renderHeader(); },
            }, '📌 Pins'),
            channel.kind !== 'dm' ? h('button', { type: 'button', class: 'small', onclick: inviteDialog }, 'Invite') : null,
            h('button', { type: 'button', class: 'small', 'aria-label': 'Channel settings', title: 'Channel settings', onclick: () => openChannelSettings(channel.channelId, leaveChannel) }, '⚙'),
            channel.kind !== 'dm' ? h('button', { type: 'button', class: 'small', onclick: () => leaveChannel(channel.channelId) }, 'Leave') : null) : null]);
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

async function runSearch() {
    const q = ui.search.value.trim();
    if (!q) { ui.searchResults.hidden = true; return; }
    // Search what the page has seen (its own writes and every event received); if the index lags more than the API's
    // bounded wait (503 stale), search what is indexed so far.
    const seen = Math.max(api.position, state.realtime?.position ?? 0);
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
