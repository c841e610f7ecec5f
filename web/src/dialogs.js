// Modal dialogs: create a channel, browse public channels, invite, add to the workspace, open a DM or group DM. Opening and
// joining a channel are the shell's (app.js), passed in by the caller.
import { h, field } from './dom.js';
import { api, state, ui, me, toast } from './store.js';
import { loadMembers, refreshChannels } from './channels.js';
import { peoplePicker } from './people.js';

export function dialog(title, fields, onSubmit, submitLabel = 'OK') {
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

/** @param {(channelId: string) => Promise<void>} openChannel */
export function createChannelDialog(openChannel) {
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

/** @param {(channelId: string) => Promise<void>} openChannel @param {(channelId: string) => Promise<void>} joinChannel */
export function browseDialog(openChannel, joinChannel) {
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

export function userIdField(id, label) {
    const input = h('input', { id, name: 'userId', required: true, autocomplete: 'off', list: `${id}-known` });
    const known = [...state.users.entries()].filter(([u]) => u !== me());
    return [field(label, input, 'Ask them for the user id shown at the bottom of their sidebar.'),
        h('datalist', { id: `${id}-known` }, known.map(([u, v]) => h('option', { value: u }, v.displayName)))];
}

export function inviteDialog() {
    const channel = state.channels.get(state.current);
    const picker = peoplePicker({ id: 'invite-user', max: 8, exclude: state.members.get(channel.channelId) ?? [] });
    dialog(`Invite to #${channel.name}`, [picker.el], async () => {
        const ids = picker.picked();
        if (!ids.length) throw new Error('Choose someone first: type a name.');
        let position = 0;
        for (const userId of ids) position = (await api.invite(channel.channelId, userId)).position;
        loadMembers(channel.channelId, position);
        toast(ids.length === 1 ? 'Invited.' : `Invited ${ids.length} people.`);
    }, 'Invite');
}

export function addToWorkspaceDialog() {
    dialog('Add someone to the workspace', userIdField('add-user', 'User id'), async form => {
        await api.addWorkspaceMember(state.wsId, form.userId.value.trim());
        toast('Added to the workspace.');
    }, 'Add');
}

/** A DM with one person or a group DM (up to 8 others), picked from the member directory. @param {(channelId: string) => Promise<void>} openChannel */
export function dmDialog(openChannel) {
    const picker = peoplePicker({ id: 'dm-user', label: 'To (names or user ids)', max: 8 });
    dialog('New direct message', [picker.el], async () => {
        const ids = picker.picked();
        if (!ids.length) throw new Error('Choose someone first: type a name.');
        const opened = await api.openDm(state.wsId, ids);
        await refreshChannels(opened.position);
        await loadMembers(opened.channelId, opened.position);
        await openChannel(opened.channelId);
        return () => ui.composer?.focus();
    }, 'Open');
}
