// The channel list, a channel's members and the hub's presence subscription: read from the API into the state, then
// announced (changed('channels'), changed('members', channelId)) for the views to render.
import { api, state, me, refreshUserNodes, changed } from './store.js';

export async function refreshChannels(minPosition) {
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
    changed('channels');
}

export async function loadMembers(channelId, minPosition) {
    try {
        const list = await api.members(channelId, minPosition);
        for (const m of list) {
            const known = state.users.get(m.userId);
            state.users.set(m.userId, { ...known, displayName: m.displayName, presence: known?.presence ?? m.presence, avatarUrls: m.avatarUrls ?? null });
        }
        state.members.set(channelId, list.map(m => m.userId));
        updatePresenceSubscription();
        changed('members', channelId);
        refreshUserNodes();
    } catch { /* not visible any more */ }
}

/** Presence is asked for the members of DMs and of the open channel. */
export function updatePresenceSubscription() {
    const wanted = new Set();
    for (const c of state.channels.values()) {
        if (c.kind === 'dm' || c.channelId === state.current) for (const u of state.members.get(c.channelId) ?? []) wanted.add(u);
    }
    wanted.delete(me());
    const same = wanted.size === state.presenceWanted.size && [...wanted].every(u => state.presenceWanted.has(u));
    state.presenceWanted = wanted;
    if (!same) state.realtime?.invoke('SubscribePresence', [...wanted].slice(0, 500));
}
