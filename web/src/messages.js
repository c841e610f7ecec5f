// The message pane and the thread panel: history pages, rendering, the composer with optimistic sends and retry,
// edits, deletions, reactions, pins, read markers.
import { h, reconcile, newId, time, dayKey, dayLabel } from './dom.js';
import { formatText } from './format.js';
import { formattingKey, withFormatting } from './composer.js';
import { attachmentsNode } from './attachments.js';
import { withUploads, takeUploads } from './uploads.js';
import { EMOJI, TYPING_SENT_EVERY_MS, api, state, ui, nodeCache, me, storeOf, upsert, topLevel, userName, presenceDot, reacted, withMentions, toast, initial, changed, statusBadge } from './store.js';

let lastTypingSent = 0;
let markReadTimer = null;

export async function loadOlder(channelId) {
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

export function markReadSoon() {
    clearTimeout(markReadTimer);
    markReadTimer = setTimeout(markRead, 250);
}

export async function markRead() {
    const channel = state.channels.get(state.current);
    if (!channel?.isMember || document.visibilityState !== 'visible') return;
    const had = channel.unreadCount || channel.mentionCount;
    const seq = Math.max(channel.lastSeq ?? 0, ...topLevel(storeOf(channel.channelId)).map(m => m.seq));
    channel.unreadCount = 0;
    channel.mentionCount = 0;
    if (had) changed('unread');
    if (seq > (channel.readSeq ?? 0)) {
        channel.readSeq = seq;
        await api.markRead(channel.channelId, seq).catch(() => {
            channel.readSeq = 0;
            setTimeout(markReadSoon, 2000);
        });
    }
}

export function changeMessage(channelId, seq, change) {
    const store = state.stores.get(channelId);
    const message = store?.all.get(seq);
    if (!message) return;
    Object.assign(message, change(message));
    message.ver = (message.ver ?? 0) + 1;
    rerenderFor(channelId);
}

export function rerenderFor(channelId) {
    if (channelId !== state.current) return;
    renderMessages();
    if (state.thread?.channelId === channelId) renderThread();
}

export async function send(channelId, text, threadRootSeq, retry, files = []) {
    const store = storeOf(channelId);
    const pending = retry ?? { clientMsgId: newId(), text: withMentions(channelId, text), threadRootSeq: threadRootSeq ?? null, createdAt: new Date().toISOString(), files };
    pending.state = 'sending';
    pending.error = null;
    store.pending.set(pending.clientMsgId, pending);
    rerenderPending(channelId, pending);
    // One POST at a time per channel, in the order they were typed: two quick messages are stored in that order.
    const previous = store.sending ?? Promise.resolve();
    store.sending = previous.then(() => post(channelId, store, pending));
    await store.sending;
}

async function post(channelId, store, pending) {
    try {
        const result = await api.post(channelId, pending.text, pending.clientMsgId, pending.threadRootSeq, pending.files.map(f => f.fileId));
        store.pending.delete(pending.clientMsgId);
        if (!store.all.has(result.seq)) {
            upsert(channelId, {
                channelId, seq: result.seq, userId: me(), text: pending.text, createdAt: result.createdAt, editedAt: null,
                deleted: false, threadRootSeq: pending.threadRootSeq, replyCount: 0, lastReplyAt: null, reactions: [], files: pending.files,
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

export function rerenderPending(channelId, pending) {
    if (channelId !== state.current) return;
    if (pending.threadRootSeq == null) renderMessages('bottom');
    else renderThread();
}

export async function act(promise, what) {
    try { await promise; } catch (err) { toast(`${what}: ${err.message}`); }
}

export function toggleReaction(channelId, message, emoji) {
    const mine = (message.reactions ?? []).find(r => r.emoji === emoji)?.userIds?.includes(me());
    state.picker = null;
    changeMessage(channelId, message.seq, m => ({ reactions: reacted(m.reactions ?? [], emoji, me(), !mine) }));
    act(api.react(channelId, message.seq, emoji, !mine), 'Reaction not saved');
}

/** Pins or unpins at once on the page; the pins panel rereads the list once the server has the change. */
export function togglePin(channelId, message) {
    const on = !message.pinned;
    changeMessage(channelId, message.seq, () => ({ pinned: on, pinnedBy: on ? me() : null, pinnedAt: on ? new Date().toISOString() : null }));
    act(api.pin(channelId, message.seq, on).then(r => changed('pins', channelId, r.position)), on ? 'Not pinned' : 'Not unpinned');
}

export function startEdit(channelId, seq) {
    state.editing = `${channelId}:${seq}`;
    state.picker = state.confirmDelete = null;
    changeMessage(channelId, seq, () => ({}));
    document.querySelector(`[data-edit="${channelId}:${seq}"]`)?.focus();
}

export function stopEdit(channelId, seq) {
    state.editing = null;
    changeMessage(channelId, seq, () => ({}));
}

export function composerInput(id, placeholder, channel, rootSeq) {
    return h('textarea', {
        id, rows: 1, placeholder, 'aria-label': placeholder, disabled: channel.archived,
        onkeydown: e => {
            if (formattingKey(e)) return;
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
                state.realtime?.invoke('Typing', channel.channelId);
            }
        },
    });
}

export function composerForm(input, channel, rootSeq) {
    return withUploads(withFormatting(h('form', {
        class: 'composer',
        onsubmit: e => {
            e.preventDefault();
            const text = input.value.trim();
            const files = takeUploads(e.currentTarget); // null while a file is still uploading
            if (files === null || (!text && !files.length)) return;
            input.value = '';
            send(channel.channelId, text, rootSeq, undefined, files);
        },
    }, input, h('button', { type: 'submit', class: 'primary', disabled: channel.archived }, 'Send')), input), input, channel);
}

export function renderMessages(mode) {
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

export function cached(key, ver, build) {
    const hit = nodeCache.get(key);
    if (hit && hit.ver === ver) return hit.el;
    const el = build();
    nodeCache.set(key, { el, ver });
    return el;
}

export function messageNode(scope, channelId, m) {
    const key = `${channelId}:${m.seq}`;
    const flags = `${state.editing === key}|${state.picker === `${scope}:${key}`}|${state.confirmDelete === key}`;
    return cached(`${scope}:${key}`, `${m.ver}|${flags}`, () => buildMessage(scope, channelId, m));
}

export function buildMessage(scope, channelId, m) {
    const key = `${channelId}:${m.seq}`;
    const mine = m.userId === me();
    const editing = state.editing === key && scope === 'main' || (state.editing === key && scope === 'thread' && m.threadRootSeq != null);
    let body;
    if (m.deleted) {
        body = h('div', { class: 'text deleted' }, 'This message was deleted.');
    } else if (editing) {
        // A rebuild while editing (the message changed under the editor: a reaction, a push) keeps what was typed and
        // the selection; only a new editor starts with the message's text and the caret at its end.
        const previous = document.querySelector(`textarea[data-edit="${key}"]`);
        const input = h('textarea', {
            class: 'edit', 'data-edit': key, 'aria-label': 'Edit message', value: previous ? previous.value : m.text,
            onkeydown: e => {
                if (formattingKey(e)) return;
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
        const [start, end] = previous ? [previous.selectionStart, previous.selectionEnd] : [input.value.length, input.value.length];
        const focus = !previous || document.activeElement === previous;
        // After the node is attached; not when the person is already in it (they may have selected text meanwhile).
        setTimeout(() => {
            if (focus && document.activeElement !== input) { input.focus(); input.setSelectionRange(start, end); }
        });
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
        h('button', { type: 'button', class: 'small', onclick: () => togglePin(channelId, m) }, m.pinned ? 'Unpin' : 'Pin'),
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
            h('span', { class: 'author', 'data-user-name': m.userId, 'data-profile': m.userId, role: 'button', tabindex: '0' }, userName(m.userId)),
            statusBadge(m.userId),
            h('time', { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString() }, time(m.createdAt)),
            m.editedAt && !m.deleted ? h('span', { class: 'edited' }, '(edited)') : null,
            m.pinned && !m.deleted ? h('span', { class: 'pinned', 'data-testid': 'pinned-marker', title: `Pinned by ${userName(m.pinnedBy)}` }, '📌 Pinned') : null),
        body, m.deleted ? null : attachmentsNode(m.files), reactions, picker, replies),
    actions);
}

export function pendingNode(channelId, p) {
    return cached(`pending:${p.clientMsgId}`, `${p.state}|${p.error}`, () => h('article', {
        class: `msg mine pending ${p.state}`, 'data-client-msg-id': p.clientMsgId, 'data-testid': 'pending-message',
    },
    h('div', { class: 'avatar', 'aria-hidden': 'true', 'data-user-initial': me() }, initial(me())),
    h('div', { class: 'content' },
        h('div', { class: 'meta' }, h('span', { class: 'author' }, userName(me())),
            h('span', { class: 'status' }, p.state === 'failed' ? 'Not sent' : 'Sending…')),
        h('div', { class: 'text' }, renderText(p.text)),
        attachmentsNode(p.files, { pending: true }),
        p.state === 'failed' ? h('div', { class: 'failed-line', role: 'alert' }, p.error ? `${p.error} ` : '',
            h('button', { type: 'button', class: 'small primary', onclick: () => send(channelId, p.text, p.threadRootSeq, p) }, 'Retry'),
            h('button', {
                type: 'button', class: 'small', onclick: () => { storeOf(channelId).pending.delete(p.clientMsgId); rerenderPending(channelId, p); },
            }, 'Discard')) : null)));
}

/** The message text (Markdown subset, as written) as sanitized nodes: format.js. */
export function renderText(text) {
    return formatText(text);
}

export async function openThread(channelId, rootSeq, { focus = true } = {}) {
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

export function closeThread() {
    state.thread = null;
    renderThread();
    ui.composer?.focus();
}

export function renderThread() {
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
