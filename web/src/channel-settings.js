// Channel settings (⚙ in the channel header): rename and topic (PATCH /v1/channels/{ch}), archive and unarchive, the
// members with add (any member) and remove (workspace admins), and leave. The dialog follows the channel list and the
// members while open (a change made on another page shows here); what is being typed is kept.
import { h, morph, field } from './dom.js';
import { api, state, me, presenceDot, userName, onChange } from './store.js';
import { loadMembers, refreshChannels } from './channels.js';
import { peoplePicker } from './people.js';

let open = null; // { el, channelId, leaveChannel, parts }

onChange('channels', () => { if (open) renderState(); });
onChange('members', channelId => { if (open?.channelId === channelId) renderMembers(); });

/** @param {(channelId: string) => Promise<void>} leaveChannel the shell's leave (it also picks the next channel) */
export function openChannelSettings(channelId, leaveChannel) {
    open?.el.close();
    const channel = state.channels.get(channelId);
    if (!channel) return;
    const el = h('dialog', { class: 'settings-dialog', 'aria-labelledby': 'settings-title', 'data-testid': 'channel-settings' });
    el.addEventListener('close', () => { el.remove(); if (open?.el === el) open = null; });
    const dm = channel.kind === 'dm';
    const name = h('input', { id: 'settings-name', value: channel.name, maxlength: 80, pattern: '[a-z0-9_\\-]+', required: true });
    const topic = h('input', { id: 'settings-topic', value: channel.topic ?? '', maxlength: 250 });
    const saved = h('p', { class: 'form-note', role: 'status' });
    for (const input of [name, topic]) input.addEventListener('input', () => { input.dataset.dirty = 'yes'; });
    const about = h('form', { class: 'settings-about', onsubmit: e => { e.preventDefault(); save(); } },
        dm ? null : field('Channel name', name, 'Lowercase letters, digits, - and _.'),
        field('Topic', topic),
        h('div', { class: 'dialog-actions' }, saved, h('button', { type: 'submit', class: 'primary' }, 'Save')));
    const parts = {
        name, topic, saved, about,
        title: h('h2', { id: 'settings-title' }),
        archived: h('p', { class: 'archived-note', role: 'status' }),
        members: h('ul', { class: 'browse settings-members', 'aria-label': 'Channel members', 'data-testid': 'settings-members' }),
        membersTitle: h('h3'),
        add: null,
        actions: h('div', { class: 'settings-actions' }),
        note: h('p', { class: 'form-error', role: 'alert', 'data-testid': 'settings-note' }),
    };
    open = { el, channelId, leaveChannel, parts };
    el.append(
        h('div', { class: 'dialog-head' }, parts.title,
            h('button', { type: 'button', class: 'icon', 'aria-label': 'Close settings', onclick: () => el.close() }, '✕')),
        parts.archived, about, parts.membersTitle, parts.members, dm ? null : addForm(), parts.note, parts.actions);
    document.body.append(el);
    renderState();
    renderMembers();
    el.showModal();
    loadMembers(channelId);
}

function addForm() {
    const { channelId } = open;
    const picker = peoplePicker({ id: 'settings-add', label: 'Add people (name or user id)', max: 8, exclude: () => state.members.get(channelId) ?? [] });
    open.parts.add = h('form', {
        class: 'settings-add', onsubmit: async e => {
            e.preventDefault();
            const ids = picker.picked();
            if (!ids.length) return say('Choose someone first: type a name.');
            let position = 0;
            try {
                for (const userId of ids) position = (await api.invite(channelId, userId)).position;
            } catch (err) {
                return say(err.code === 'not_found' ? 'No such person in this workspace.' : `Not added: ${err.message}`);
            }
            say('');
            open?.el.querySelector('.settings-add')?.replaceWith(addForm()); // a fresh picker
            await loadMembers(channelId, position);
        },
    }, picker.el, h('div', { class: 'dialog-actions' }, h('button', { type: 'submit' }, 'Add')));
    return open.parts.add;
}

function say(text) {
    if (open) open.parts.note.textContent = text;
}

function isAdmin() {
    return state.workspaces.find(w => w.workspaceId === state.wsId)?.role === 'admin';
}

/** Title, archived state, the buttons; the fields only when they are not being edited. */
function renderState() {
    const channel = state.channels.get(open.channelId);
    if (!channel) return open.el.close(); // gone (left, removed from a private channel)
    const { parts } = open;
    const dm = channel.kind === 'dm';
    parts.title.textContent = dm ? 'Conversation settings' : `Settings of #${channel.name}`;
    parts.archived.textContent = channel.archived ? 'This channel is archived: it is read-only until it is unarchived.' : '';
    parts.archived.hidden = !channel.archived;
    for (const [input, value] of [[parts.name, channel.name], [parts.topic, channel.topic ?? '']]) {
        if (document.activeElement !== input && input.dataset.dirty !== 'yes') input.value = value;
    }
    for (const control of [...parts.about.querySelectorAll('input, button'), ...(parts.add?.querySelectorAll('input, button') ?? [])]) {
        control.disabled = channel.archived;
    }
    // Morphed, not replaced: a button replaced under a press is a click lost (see dom.js morph).
    morph(parts.actions, dm ? [] : [
        h('button', { type: 'button', onclick: () => archive(!channel.archived) }, channel.archived ? 'Unarchive channel' : 'Archive channel'),
        h('button', { type: 'button', class: 'danger', onclick: leave }, 'Leave channel'),
    ]);
}

function renderMembers() {
    const { parts, channelId } = open;
    const channel = state.channels.get(channelId);
    const members = state.members.get(channelId);
    parts.membersTitle.textContent = members ? `Members (${members.length})` : 'Members';
    const removable = isAdmin() && channel?.kind !== 'dm' && !channel?.archived;
    morph(parts.members, (members ?? []).map(userId => h('li', { 'data-user': userId, 'data-key': userId },
        presenceDot(userId),
        h('span', { class: 'label', 'data-user-name': userId, 'data-profile': userId, role: 'button', tabindex: '0' }, userName(userId)),
        userId === me() ? h('small', null, '(you)') : null,
        removable && userId !== me()
            ? h('button', { type: 'button', class: 'small', 'aria-label': `Remove ${userName(userId)}`, onclick: () => removeMember(userId) }, 'Remove')
            : null)));
}

async function save() {
    const { parts, channelId } = open;
    const channel = state.channels.get(channelId);
    const changes = {};
    if (channel.kind !== 'dm' && parts.name.value.trim() !== channel.name) changes.name = parts.name.value.trim();
    if (parts.topic.value.trim() !== (channel.topic ?? '')) changes.topic = parts.topic.value.trim();
    if (!Object.keys(changes).length) { parts.saved.textContent = 'Nothing changed.'; return; }
    try {
        const result = await api.updateChannel(channelId, changes);
        parts.name.dataset.dirty = parts.topic.dataset.dirty = '';
        parts.saved.textContent = 'Saved.';
        await refreshChannels(result.position);
    } catch (err) {
        parts.saved.textContent = err.code === 'name_taken' ? 'That name is taken.'
            : err.code === 'channel_archived' ? 'The channel is archived.' : `Not saved: ${err.message}`;
    }
}

async function archive(on) {
    try {
        const result = await api.archive(open.channelId, on);
        say('');
        await refreshChannels(result.position);
    } catch (err) {
        say(err.code === 'forbidden' ? `Only the channel's creator or a workspace admin can ${on ? 'archive' : 'unarchive'} it.` : `Not done: ${err.message}`);
    }
}

async function removeMember(userId) {
    const { channelId } = open;
    try {
        const result = await api.removeChannelMember(channelId, userId);
        await loadMembers(channelId, result.position);
        say('');
    } catch (err) {
        say(`Not removed: ${err.message}`);
    }
}

function leave() {
    const { el, channelId, leaveChannel } = open;
    el.close();
    leaveChannel(channelId);
}
