// Getting the person's attention while the page is open: the document title and the favicon carry the unread count
// ("(3) #general"), and while the page is hidden a mention or a direct message shows a desktop notification (the
// Notification API, once the person allowed it: notifyprefs.js asks from a click). Muted channels, channels set to
// "nothing" and a snooze stay silent.
import { state, me, channelLabel, userName, onChange } from './store.js';
import { notificationSettings, loadNotificationSettings } from './notifyprefs.js';

const APP_TITLE = 'EventSourcedChat';
const FAVICON = 'favicon.svg';
let installed = false;
let openChannelFn = null;

/** Starts following the counts and the posts (once); `openChannel` opens a notification's channel when it is clicked. */
export function installAttention(openChannel) {
    openChannelFn = openChannel;
    if (installed) return;
    installed = true;
    onChange('unread', update);
    onChange('channels', update);
    onChange('posted', notify);
    document.addEventListener('visibilitychange', update);
    setInterval(update, 1000); // the open channel changes without an announcement: the title follows within a second
    loadNotificationSettings().catch(() => undefined);
    update();
}

/** The unread messages of the workspace shown: every channel and DM the person is in. */
export function unreadTotal() {
    let total = 0;
    for (const c of state.channels.values()) if (c.isMember) total += c.unreadCount ?? 0;
    return total;
}

function update() {
    const total = unreadTotal();
    const channel = state.channels.get(state.current);
    const label = channel ? (channel.kind === 'dm' ? channelLabel(channel) : `#${channel.name}`) : APP_TITLE;
    const title = total ? `(${total}) ${label}` : label;
    if (document.title !== title) document.title = title;
    const href = total ? badgeIcon(total) : FAVICON;
    let link = document.querySelector('link[rel="icon"]');
    if (!link) {
        link = document.createElement('link');
        link.rel = 'icon';
        document.head.append(link);
    }
    if (link.getAttribute('href') !== href) {
        link.setAttribute('type', 'image/svg+xml');
        link.setAttribute('href', href);
        link.dataset.count = String(total);
    }
}

/** The favicon with a red badge and the count (9+ beyond nine), as an SVG data URL (the CSP allows `img-src data:`). */
function badgeIcon(total) {
    const text = total > 9 ? '9+' : String(total);
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#3b2a5a"/>'
        + '<path d="M8 10h16v10H14l-5 4v-4H8z" fill="#fff"/><circle cx="23" cy="9" r="9" fill="#cd2553"/>'
        + `<text x="23" y="13" font-size="${text.length > 1 ? 10 : 12}" font-family="sans-serif" font-weight="700" text-anchor="middle" fill="#fff">${text}</text></svg>`;
    return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** A new message: a desktop notification when the page is hidden and it is a DM or mentions the person. */
function notify(channelId, data) {
    if (data.userId === me() || document.visibilityState !== 'hidden') return;
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const channel = state.channels.get(channelId);
    if (!channel?.isMember) return;
    const mentions = data.mentions ?? {};
    const dm = channel.kind === 'dm';
    const mentioned = (mentions.userIds ?? []).includes(me()) || mentions.channel || mentions.here;
    if (!dm && !mentioned) return;
    const setting = notificationSettings.channels.get(channelId);
    if (setting?.muted || setting?.level === 'none') return;
    if (notificationSettings.snoozeUntil && Date.parse(notificationSettings.snoozeUntil) > Date.now()) return;
    const who = userName(data.userId);
    const note = new Notification(dm ? who : `${who} in #${channel.name}`, {
        body: plainText(data.text ?? ''),
        tag: `${channelId}:${data.seq}`,
    });
    note.onclick = () => {
        window.focus();
        openChannelFn?.(channelId);
        note.close();
    };
}

/** A message's text for a notification: mentions as names, Markdown markers left as typed, at most 200 characters. */
function plainText(text) {
    const named = text.replace(/<@([^>\s]+)>/g, (_, id) => `@${userName(id)}`).replace(/<#([^>\s]+)>/g, (_, id) => `#${state.channels.get(id)?.name ?? 'channel'}`);
    return named.length > 200 ? `${named.slice(0, 199)}…` : named;
}
