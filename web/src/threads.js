// The threads view: the threads the person follows in this workspace (GET /v1/workspaces/{ws}/threads), latest reply
// first, with their unread replies and mentions; a thread opens in its channel's thread panel; follow and unfollow.
// Shown in the message pane in place of a channel; its sidebar entry counts the threads with unread replies.
import { h, time } from './dom.js';
import { api, state, ui, userName, channelLabel, toast, onChange, changed, plural } from './store.js';
import { openThread, renderThread, renderText } from './messages.js';
import { renderPins } from './pins.js';

const view = {
    wsId: null,
    list: null, // the threads as the API answered them (+ `following`, changed on the page)
    shown: false, // the pane shows the view (until a channel is opened)
    position: 0, // the log position the next read waits for (a follow's answer, a reply's event)
    timer: null,
    openChannel: null,
    root: null, // the view's node while the pane shows it
};

onChange('posted', (_channelId, data, position) => { if (data.threadRootSeq != null) reloadSoon(position); });
onChange('channels', () => reloadSoon());

/** The sidebar's "Threads" entry (opening the view), with the number of threads that have unread replies. */
export function threadsEntry(openChannel) {
    view.openChannel = openChannel;
    if (view.wsId !== state.wsId) {
        view.wsId = state.wsId;
        view.list = null;
        view.shown = false;
        reloadSoon();
    }
    const unread = (view.list ?? []).filter(t => t.following && t.unreadReplies > 0).length;
    const active = view.shown && !state.current;
    return h('ul', { class: 'channels threads-entry' }, h('li', null, h('button', {
        type: 'button', class: `channel${active ? ' active' : ''}${unread ? ' unread' : ''}`, 'data-testid': 'threads-entry',
        'aria-current': active ? 'page' : false, onclick: showThreads,
    }, h('span', { class: 'hash', 'aria-hidden': 'true' }, '🧵'), h('span', { class: 'label' }, 'Threads'),
    unread ? h('span', { class: 'badge', 'data-testid': 'threads-badge', 'aria-label': `${plural(unread, 'thread')} with unread replies` }, String(unread)) : null)));
}

function reloadSoon(position) {
    view.position = Math.max(view.position, position ?? 0);
    clearTimeout(view.timer);
    view.timer = setTimeout(load, 300);
}

async function load() {
    if (!state.wsId) return;
    const wsId = state.wsId;
    let page;
    try { page = await api.threads(wsId, view.position || undefined); } catch { return; }
    if (wsId !== state.wsId) return;
    // A thread unfollowed on the page stays listed (with its Follow button) until the view is opened again.
    const list = page.threads.map(t => ({ ...t, following: true }));
    for (const t of view.list ?? []) {
        if (!t.following && !list.some(u => u.channelId === t.channelId && u.rootSeq === t.rootSeq)) list.push(t);
    }
    view.list = list;
    render();
    changed('unread'); // the sidebar's entry
}

/** Shows the view in the message pane (the open channel, its thread and pins panels are closed). */
export async function showThreads() {
    state.current = null;
    state.thread = null;
    view.shown = true;
    view.list = view.list?.filter(t => t.following) ?? null;
    renderThread();
    renderPins();
    ui.list = ui.composer = ui.typing = ui.header = null;
    ui.shell?.classList.remove('sidebar-open');
    changed('unread');
    render(true);
    await load();
}

/** Draws the view into the pane when it is shown there (or is being shown: `force`). */
function render(force = false) {
    if (!ui.pane || state.current || !(force || (view.shown && view.root && ui.pane.contains(view.root)))) return;
    const list = view.list;
    view.root = h('div', { class: 'pane-header' }, h('div', { class: 'title' }, h('h1', { id: 'channel-title' }, 'Threads'),
            h('p', { class: 'topic' }, 'Threads you started, replied to or follow, latest reply first.')));
    ui.pane.replaceChildren(view.root,
        h('ol', { class: 'threads-list', 'aria-label': 'Followed threads' },
            list == null ? h('li', { class: 'muted' }, 'Loading…')
                : list.length === 0 ? h('li', { class: 'muted' }, 'No followed threads with replies yet.')
                    : list.map(threadNode)));
}

function threadNode(t) {
    const channel = state.channels.get(t.channelId);
    const where = channel ? (channel.kind === 'dm' ? channelLabel(channel) : `#${channel.name}`) : 'a channel';
    const root = t.root ?? {};
    const last = t.lastReply;
    return h('li', { class: 'thread-item', 'data-testid': 'thread-item', 'data-channel': t.channelId, 'data-root': t.rootSeq },
        h('div', { class: 'meta' }, h('strong', null, where), ' · ',
            h('span', { class: 'author', 'data-user-name': root.userId }, userName(root.userId)),
            root.createdAt ? h('time', { datetime: root.createdAt }, time(root.createdAt)) : null,
            t.unreadReplies ? h('span', { class: 'badge', 'data-testid': 'thread-unread' }, `${t.unreadReplies} new`) : null,
            t.mentionCount ? h('span', { class: 'badge mentions', 'data-testid': 'thread-mentions' }, `@${t.mentionCount}`) : null),
        h('div', { class: 'text' }, root.deleted ? 'This message was deleted.' : renderText(root.text ?? '')),
        h('div', { class: 'thread-last' }, (root.replyCount ?? 0) === 1 ? '1 reply' : `${root.replyCount ?? 0} replies`,
            last ? [' · last by ', h('span', { 'data-user-name': last.userId }, userName(last.userId)), ' ', time(last.createdAt)] : null),
        h('div', { class: 'thread-actions' },
            h('button', { type: 'button', class: 'small primary', onclick: () => openFromView(t) }, 'Open thread'),
            h('button', { type: 'button', class: 'small', onclick: () => setFollow(t, !t.following) }, t.following ? 'Unfollow' : 'Follow')));
}

async function openFromView(t) {
    view.shown = false;
    await view.openChannel?.(t.channelId, { focus: false });
    await openThread(t.channelId, t.rootSeq);
    // Reading the thread reads its replies: the channel's read marker moves to the last one (the server never moves it
    // back); opening the channel moved it to the channel's last message already. The counts are read again after.
    // Asked even when the page's own marker is there already: its answer's position covers the marker (the user
    // stream's commands are serialized), so the counts read after it cannot miss it.
    const channel = state.channels.get(t.channelId);
    const last = t.lastReply?.seq ?? 0;
    let position = api.position;
    if (channel && last > 0) {
        const answer = await api.markRead(t.channelId, last).catch(() => null);
        if (answer) {
            channel.readSeq = Math.max(channel.readSeq ?? 0, last);
            position = Math.max(position, answer.position ?? 0);
        }
    }
    reloadSoon(position);
}

async function setFollow(t, on) {
    try {
        const answer = await api.follow(t.channelId, t.rootSeq, on);
        t.following = on;
        view.position = Math.max(view.position, answer?.position ?? 0);
    } catch (err) {
        toast(`${on ? 'Not followed' : 'Not unfollowed'}: ${err.message}`);
    }
    render();
    changed('unread');
}
