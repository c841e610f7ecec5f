// The pins panel: the current channel's pinned messages, newest pin first, read from GET .../pins and read again (at
// the event's position) whenever the hub or this page pins, unpins or deletes one of them.
import { h, morph, time } from './dom.js';
import { api, state, ui, storeOf, userName, toast } from './store.js';
import { togglePin, renderText } from './messages.js';

export function togglePins() {
    state.pinsOpen = !state.pinsOpen;
    if (state.pinsOpen && state.current) loadPins(state.current);
    renderPins();
}

export async function loadPins(channelId, minPosition) {
    try {
        state.pins.set(channelId, (await api.pins(channelId, minPosition)).messages);
    } catch (err) {
        toast(`Pins not loaded: ${err.message}`);
    }
    if (channelId === state.current) renderPins();
}

/** A channel's pins changed at `position`: the open panel rereads them; a hidden list is dropped, read when next shown. */
export function onPinsChanged(channelId, position) {
    if (state.pinsOpen && channelId === state.current) loadPins(channelId, position);
    else state.pins.delete(channelId);
}

export function renderPins() {
    if (!ui.pins) return;
    document.querySelector('[aria-controls="pins"]')?.setAttribute('aria-pressed', String(state.pinsOpen));
    const channelId = state.current;
    const open = state.pinsOpen && !!state.channels.get(channelId)?.isMember;
    ui.pins.hidden = !open;
    if (!open) {
        ui.pins.replaceChildren();
        return;
    }
    const list = state.pins.get(channelId);
    // Morphed, not replaced: pins and edits arriving re-render it while people click in it (see dom.js morph).
    morph(ui.pins, [
        h('div', { class: 'thread-header' }, h('h2', null, 'Pinned messages'),
            h('button', { type: 'button', class: 'icon', 'aria-label': 'Close pins', onclick: togglePins }, '✕')),
        h('ol', { class: 'pins-list', 'aria-label': 'Pinned messages' },
            list == null ? h('li', { class: 'muted' }, 'Loading…')
                : list.length === 0 ? h('li', { class: 'muted' }, 'No pinned messages yet.')
                    : list.map(p => pinNode(channelId, p)))]);
}

function pinNode(channelId, pin) {
    const m = { ...pin, ...storeOf(channelId).all.get(pin.seq), pinnedBy: pin.pinnedBy }; // the text as the page knows it now
    return h('li', { class: 'pin', 'data-testid': 'pin', 'data-seq': pin.seq, 'data-key': `${channelId}:${pin.seq}` },
        h('div', { class: 'meta' },
            h('span', { class: 'author', 'data-user-name': m.userId }, userName(m.userId)),
            h('time', { datetime: m.createdAt, title: new Date(m.createdAt).toLocaleString() }, time(m.createdAt))),
        h('div', { class: 'text' }, renderText(m.text)),
        h('div', { class: 'pinned-by' }, 'Pinned by ', h('span', { 'data-user-name': pin.pinnedBy }, userName(pin.pinnedBy)),
            ' ', h('button', { type: 'button', class: 'small', onclick: () => togglePin(channelId, { ...m, pinned: true }) }, 'Unpin')));
}
