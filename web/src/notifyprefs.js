// Notification preferences: mail on or off, the digest delay, a daily do-not-disturb window, a snooze, each channel's
// level (all / mentions only / nothing) and mute, and desktop notifications (the browser's permission, asked from the
// button's click). Read from GET /v1/users/me/notifications each time the dialog opens; what changed is sent
// (PATCH /v1/users/me/notifications, PUT /v1/channels/{ch}/notifications per channel changed).
import { h, field } from './dom.js';
import { api, state, channelLabel, toast } from './store.js';
import { dialog } from './dialogs.js';

/** What the page knows of the settings (attention.js reads it to leave muted channels and snoozes silent). */
export const notificationSettings = { channels: new Map(), snoozeUntil: null, position: 0 };

const LEVELS = [['all', 'All messages'], ['mentions', 'Mentions and DMs only'], ['none', 'Nothing']];
const SNOOZE = [['30', '30 minutes'], ['60', '1 hour'], ['120', '2 hours'], ['480', '8 hours'], ['tomorrow', 'Until tomorrow 09:00']];

/** Reads the settings into notificationSettings (and answers them). */
export async function loadNotificationSettings(minPosition) {
    const s = await api.notificationSettings(minPosition || notificationSettings.position || undefined);
    notificationSettings.channels = new Map((s.channels ?? []).map(c => [c.channelId, c]));
    notificationSettings.snoozeUntil = s.snoozeUntil;
    notificationSettings.position = Math.max(notificationSettings.position, s.position ?? 0);
    return s;
}

export async function openNotificationPrefs() {
    let s;
    try { s = await loadNotificationSettings(); } catch (err) { return toast(`Notification settings not loaded: ${err.message}`); }
    const zone = s.dnd?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const snoozed = s.snoozeUntil && Date.parse(s.snoozeUntil) > Date.now();
    const channels = [...state.channels.values()].filter(c => c.isMember)
        .sort((a, b) => (a.kind === 'dm') - (b.kind === 'dm') || channelLabel(a).localeCompare(channelLabel(b)));
    const nameOf = c => (c.kind === 'dm' ? channelLabel(c) : `#${c.name}`);
    dialog('Notifications', [
        h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'pref-email', name: 'email', checked: s.email }),
            ' Email me about mentions, DMs and followed threads while I am away'),
        field('Wait before emailing (minutes)', h('input', { id: 'pref-digest', name: 'digest', type: 'number', min: 0, max: 1440, value: String(s.digestMinutes ?? 0) }),
            '0: the server\'s default. At most one mail per this interval.'),
        h('fieldset', { class: 'pref-group' }, h('legend', null, 'Do not disturb'),
            h('label', { class: 'check' }, h('input', { type: 'checkbox', id: 'pref-dnd', name: 'dnd', checked: !!s.dnd }), ' Every day'),
            h('div', { class: 'pref-row' },
                field('From', h('input', { id: 'pref-dnd-from', name: 'dndFrom', type: 'time', value: s.dnd?.from ?? '22:00' })),
                field('To', h('input', { id: 'pref-dnd-to', name: 'dndTo', type: 'time', value: s.dnd?.to ?? '08:00' }))),
            field('Time zone', h('input', { id: 'pref-dnd-zone', name: 'dndZone', value: zone, list: 'pref-zones' })),
            h('datalist', { id: 'pref-zones' }, zones.map(z => h('option', { value: z })))),
        field('Snooze', h('select', { id: 'pref-snooze', name: 'snooze' },
            snoozed ? h('option', { value: 'keep', selected: true }, `Snoozed until ${new Date(s.snoozeUntil).toLocaleString()}`) : null,
            h('option', { value: '', selected: !snoozed }, 'Not snoozed'),
            SNOOZE.map(([value, label]) => h('option', { value }, label)))),
        h('fieldset', { class: 'pref-group pref-channels' }, h('legend', null, 'Channels'),
            channels.length ? channels.map(c => {
                const set = notificationSettings.channels.get(c.channelId) ?? { level: 'mentions', muted: false };
                return h('div', { class: 'pref-channel', 'data-channel-pref': c.channelId },
                    h('span', { class: 'label' }, nameOf(c)),
                    h('select', { 'aria-label': `Notifications for ${nameOf(c)}`, 'data-level': c.channelId },
                        LEVELS.map(([value, label]) => h('option', { value, selected: set.level === value }, label))),
                    h('label', { class: 'check' }, h('input', { type: 'checkbox', 'data-muted': c.channelId, checked: set.muted, 'aria-label': `Mute ${nameOf(c)}` }), ' Mute'));
            }) : h('p', { class: 'muted' }, 'You are in no channel yet.')),
        desktopSection(),
    ], async form => {
        const patch = {};
        if (form.email.checked !== s.email) patch.email = form.email.checked;
        const digest = Number(form.digest.value || 0);
        if (digest !== (s.digestMinutes ?? 0)) patch.digestMinutes = digest;
        const dnd = form.dnd.checked ? { from: form.dndFrom.value, to: form.dndTo.value, timeZone: form.dndZone.value.trim() } : null;
        if (JSON.stringify(dnd) !== JSON.stringify(s.dnd ?? null)) patch.dnd = dnd;
        if (form.snooze.value !== 'keep') {
            const until = snoozeUntil(form.snooze.value);
            if (until !== null || snoozed) patch.snoozeUntil = until;
        }
        let position = 0;
        if (Object.keys(patch).length) position = (await api.setNotificationPreferences(patch)).position ?? 0;
        for (const c of channels) {
            const level = form.querySelector(`[data-level="${c.channelId}"]`).value;
            const muted = form.querySelector(`[data-muted="${c.channelId}"]`).checked;
            const set = notificationSettings.channels.get(c.channelId) ?? { level: 'mentions', muted: false };
            if (level !== set.level || muted !== set.muted) {
                position = Math.max(position, (await api.setChannelNotifications(c.channelId, level, muted)).position ?? 0);
            }
        }
        await loadNotificationSettings(position);
        toast('Notification settings saved.');
    }, 'Save');
}

function snoozeUntil(choice) {
    if (!choice) return null;
    if (choice === 'tomorrow') {
        const at = new Date();
        at.setDate(at.getDate() + 1);
        at.setHours(9, 0, 0, 0);
        return at.toISOString();
    }
    return new Date(Date.now() + Number(choice) * 60_000).toISOString();
}

/** The browser's permission for desktop notifications; asking needs a click (browsers refuse a prompt without one). */
function desktopSection() {
    const status = h('span', { id: 'desktop-status', 'data-testid': 'desktop-status' });
    const button = h('button', {
        type: 'button', class: 'small',
        onclick: async () => {
            await Notification.requestPermission().catch(() => undefined);
            show();
        },
    }, 'Enable desktop notifications');
    const show = () => {
        const permission = typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
        status.textContent = {
            granted: 'Desktop notifications are on for mentions and DMs while this page is hidden.',
            denied: 'Desktop notifications are blocked in this browser\'s site settings.',
            unsupported: 'This browser has no desktop notifications.',
        }[permission] ?? 'Desktop notifications are off.';
        button.hidden = permission !== 'default';
    };
    show();
    return h('fieldset', { class: 'pref-group' }, h('legend', null, 'Desktop'), status, ' ', button);
}
