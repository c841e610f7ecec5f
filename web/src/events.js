// What the hub sends: events applied to the state (idempotently by channel and seq), presence, typing, the
// connection state, and resync when the hub cannot replay.
import { Realtime } from './realtime.js';
import { TYPING_SHOWN_MS, api, state, ui, userFetches, me, storeOf, upsert, userName, wantUser, refreshUserNodes, rememberUser, typingIn, reacted, changed } from './store.js';
import { loadMembers, refreshChannels, updatePresenceSubscription } from './channels.js';
import { markReadSoon, changeMessage, renderMessages, openThread, renderThread } from './messages.js';

let refreshTimer = null;
let refreshPosition = 0;

/** Rereads the workspaces and the channel list once the read models have applied `minPosition` (an event's position). */
export function refreshSoon(minPosition) {
    refreshPosition = Math.max(refreshPosition, minPosition ?? 0);
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
        const position = refreshPosition;
        refreshPosition = 0;
        const list = await api.workspaces(position).catch(() => null);
        if (list) state.workspaces = list;
        await refreshChannels(position);
        changed('workspaces');
    }, 150);
}

export function renderTyping() {
    if (!ui.typing) return;
    const who = state.current ? typingIn(state.current).map(userName) : [];
    ui.typing.textContent = who.length === 0 ? ''
        : who.length === 1 ? `${who[0]} is typing…`
            : who.length === 2 ? `${who[0]} and ${who[1]} are typing…` : 'Several people are typing…';
}

setInterval(renderTyping, 1000);

export function startRealtime() {
    state.realtime = new Realtime(() => state.session?.token, onEvent, onConnectionState);
    state.realtime.start().then(() => {
        state.presenceWanted = new Set();
        updatePresenceSubscription();
    });
}

export function onConnectionState(connection) {
    if (connection === 'unauthorized') return changed('signed-out'); // the token was revoked: the page signs out
    state.connection = connection;
    if (connection === 'resumed') {
        state.presenceWanted = new Set();
        updatePresenceSubscription();
        // A page that had seen no event had no position to resume from: it rereads what it shows.
        if (!state.realtime || state.realtime.position === 0) resync();
    }
    changed('connection');
}

export function onEvent(e) {
    const channelId = e.channelId;
    const data = e.data ?? {};
    switch (e.type) {
        case 'message.posted': return onPosted(channelId, data, e.position);
        case 'message.edited': return changeMessage(channelId, data.seq, m => ({ text: data.text, editedAt: e.at }));
        case 'message.deleted': return onDeleted(channelId, data.seq, e.position);
        case 'message.pinned':
        case 'message.unpinned':
            changeMessage(channelId, data.seq, () => ({ pinned: data.pinned, pinnedBy: data.pinnedBy ?? null, pinnedAt: data.pinnedAt ?? null }));
            return changed('pins', channelId, e.position);
        case 'reaction.added':
        case 'reaction.removed': return changeMessage(channelId, data.seq, m => ({ reactions: reacted(m.reactions ?? [], data.emoji, data.userId, e.type === 'reaction.added') }));
        case 'member.joined':
        case 'member.left':
            if (data.userId === me()) {
                // The gateway starts routing a channel's events to this connection a moment after the join: a message
                // posted in that moment reaches the page only on its next Resume. Reading the list again a little
                // later gets its counts (the list is authoritative, live events only count seqs above its lastSeq).
                setTimeout(() => refreshSoon(e.position), 1500);
                return refreshSoon(e.position);
            }
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
                changed('unread');
            }
            return;
        }
        case 'presence.changed': {
            const user = state.users.get(data.userId);
            if (user) user.presence = data.status;
            else state.users.set(data.userId, { displayName: '…', presence: data.status }), userFetches.delete(data.userId);
            return refreshUserNodes();
        }
        case 'user.updated':
            // {userId, displayName, title, timeZone} or {userId, status}: names and badges everywhere follow, and the
            // sidebar (DMs are named after the people in them).
            rememberUser(data);
            if ('avatar' in data) api.user(data.userId, data.position).then(rememberUser, () => undefined); // the URLs come with the profile
            return changed('unread');
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

export function onPosted(channelId, data, position) {
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
        changed('posted', channelId, data, position); // a new message (desktop notifications, the threads view)
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
            changed('unread');
        }
        if (reading) markReadSoon();
    } else if (!channel) {
        // A channel the page does not list yet (a DM just opened by someone else): its counts come from the list,
        // read once the read models include this message.
        refreshSoon(position);
    }
    if (channelId === state.current && store.loaded) renderMessages();
}

export function onDeleted(channelId, seq, position) {
    const message = storeOf(channelId).all.get(seq);
    changeMessage(channelId, seq, () => ({ deleted: true, text: '', reactions: [], pinned: false, pinnedBy: null, pinnedAt: null }));
    if (state.pins.get(channelId)?.some(p => p.seq === seq)) changed('pins', channelId, position); // a deleted message leaves the pins
    if (message?.threadRootSeq != null && !message.deleted) {
        changeMessage(channelId, message.threadRootSeq, m => ({ replyCount: Math.max(0, (m.replyCount ?? 1) - 1) }));
    }
}

/** The hub could not replay what was missed: reread the channel list and the open channel's latest page. */
export async function resync() {
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
